/// Why a port call failed. Each case says what the caller did not get.
public enum PortError: Error, Equatable, CustomStringConvertible {
    /// ERROR_FLT_NO_WAITER_FOR_REPLY: unknown id, a reply after the timeout, a second reply,
    /// or a message that another client got. Nothing was changed.
    case noWaiterForReply(messageId: UInt64)
    /// The server port is closed to new connections.
    case portClosed
    /// `maxConnections` clients are connected already.
    case tooManyConnections(max: Int)
    /// This client port is disconnected.
    case disconnected

    public var description: String {
        switch self {
        case .noWaiterForReply(let id): "no waiter is present for the reply to message \(id)"
        case .portClosed: "the port is closed to new connections"
        case .tooManyConnections(let max): "the port already has its maximum of \(max) connection(s)"
        case .disconnected: "the client port is disconnected"
        }
    }
}
