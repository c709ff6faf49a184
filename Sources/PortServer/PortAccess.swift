/// Who may connect to the socket port (its security descriptor): root, and
/// the members of one group when the policy names `port_group`. The socket
/// file is created 0600 root:root, or 0660 root:GROUP; each peer's
/// credentials are checked again at connect (SO_PEERCRED, SO_PEERGROUPS),
/// so a socket file whose mode was widened by hand still admits no one else.
public struct PortAccess: Sendable, Equatable {
    public var path: String
    /// The group whose members may connect besides root (nil: root only).
    public var group: UInt32?
    /// The most decider connections at once (`max_connections`).
    public var maxDeciders: Int
    /// The most observer and the most control connections at once, each.
    public var maxOthers = 8
    /// How long a new connection has to send its hello.
    public var handshakeTimeout: Duration = .seconds(5)

    public init(path: String, group: UInt32?, maxDeciders: Int) {
        self.path = path
        self.group = group
        self.maxDeciders = maxDeciders
    }

    /// The socket file's mode.
    public var mode: UInt32 { group == nil ? 0o600 : 0o660 }
}
