/// Why the agent refused a connection, broke one off, or did not take a frame.
/// Codes marked fatal are followed by the agent closing the connection.
public enum PortErrorCode: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// Fatal: the hello names a version the agent does not speak.
    case badVersion = 1
    /// Fatal: a frame too short for its type, or with fields out of range.
    case malformed = 2
    /// Fatal: a frame longer than `PortLimits.maxClientFrame`.
    case oversized = 3
    /// Fatal: a frame type the agent does not know, or an agent's type.
    case unknownType = 4
    /// Fatal: a frame other than hello before the hello, or a second hello.
    case badHandshake = 5
    /// Not fatal: a reply whose message id is not one this connection got and
    /// has not answered (late, second, unknown, or another client's). Nothing changed.
    case noWaiter = 6
    /// Refused: the port already has `max_connections` deciders (or its observers and control connections).
    case tooManyConnections = 7
    /// Refused: the peer's user is neither root nor in `port_group`.
    case notPermitted = 8
    /// Fatal: no hello within the handshake time.
    case handshakeTimeout = 9
    /// Fatal: more gets primed than `PortLimits.maxPrimed`.
    case tooManyPrimed = 10
    /// Fatal: the client left its messages unread until their deadline.
    case notReading = 11
    /// Fatal: the agent is stopping.
    case shuttingDown = 12
    /// Fatal: a prime or a reply from a connection that is not a decider.
    case wrongRole = 13
    /// In a control reply: the request failed (the text says why).
    case controlFailed = 14
    /// In a control reply: a command the agent does not know.
    case unknownCommand = 15

    public var isFatal: Bool { ![.noWaiter, .controlFailed, .unknownCommand].contains(self) }

    public var description: String {
        switch self {
        case .badVersion: "bad-version"
        case .malformed: "malformed"
        case .oversized: "oversized"
        case .unknownType: "unknown-type"
        case .badHandshake: "bad-handshake"
        case .noWaiter: "no-waiter"
        case .tooManyConnections: "too-many-connections"
        case .notPermitted: "not-permitted"
        case .handshakeTimeout: "handshake-timeout"
        case .tooManyPrimed: "too-many-primed"
        case .notReading: "not-reading"
        case .shuttingDown: "shutting-down"
        case .wrongRole: "wrong-role"
        case .controlFailed: "control-failed"
        case .unknownCommand: "unknown-command"
        }
    }
}
