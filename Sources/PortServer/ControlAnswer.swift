import PortProtocol

/// The agent's answer to a control request: a result, or an error code and why.
public struct ControlAnswer: Sendable, Equatable {
    public var error: PortErrorCode?
    public var body: [UInt8]

    public init(error: PortErrorCode?, body: [UInt8]) {
        self.error = error
        self.body = body
    }

    public static func ok(_ text: String) -> ControlAnswer { ControlAnswer(error: nil, body: Array(text.utf8)) }
    public static func failed(_ text: String) -> ControlAnswer { ControlAnswer(error: .controlFailed, body: Array(text.utf8)) }
}
