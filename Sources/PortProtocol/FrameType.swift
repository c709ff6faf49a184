/// The first four bytes of every frame. Client frames are below 0x100, the agent's above.
public enum FrameType: UInt32, Sendable, CaseIterable {
    case hello = 1
    case prime = 2
    case reply = 3
    case control = 4
    /// A reply, then one more get primed: the scanner's re-armed FilterGetMessage in the same frame.
    case replyAndPrime = 5

    case welcome = 0x101
    case refused = 0x102
    case message = 0x103
    case error = 0x104
    case controlReply = 0x105
    case decision = 0x106

    /// The type's name in errors.
    public var name: StaticString {
        switch self {
        case .hello: "hello"
        case .prime: "prime"
        case .reply: "reply"
        case .control: "control"
        case .replyAndPrime: "replyAndPrime"
        case .welcome: "welcome"
        case .refused: "refused"
        case .message: "message"
        case .error: "error"
        case .controlReply: "controlReply"
        case .decision: "decision"
        }
    }
}
