/// The numbers both ends of the port's socket agree on (docs/port-protocol.md).
public enum PortLimits {
    /// The protocol version a client names in its hello; the agent speaks this one only.
    public static let version: UInt32 = 1
    /// Where the agent listens unless the policy's `port_socket` says otherwise.
    public static let defaultSocketPath = "/run/fanfilter/port"
    /// The largest frame a client may send; a larger one is a protocol error.
    public static let maxClientFrame = 4096
    /// The largest frame the agent sends (80 KiB): a message with the longest
    /// path and exe and `content_bytes` at its largest fits, and longer
    /// control answers are cut to fit.
    public static let maxAgentFrame = 81920
    /// The most `content_bytes` a policy may ask for.
    public static let maxContentBytes = 65536
    /// The most gets one connection may have primed and not yet used.
    public static let maxPrimed = 1024
    /// The longest client name, in bytes.
    public static let maxNameLength = 64
    /// The most rule numbers a hello may name.
    public static let maxRules = 256
    /// In a control reply's status: more pieces of this answer follow (their bodies are joined).
    public static let morePieces: UInt32 = 0x8000_0000
    /// The bytes of a reply's payload: a verdict.
    public static let replyPayloadSize = 4
}
