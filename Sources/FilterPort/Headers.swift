/// FILTER_MESSAGE_HEADER: what a client finds in front of every message.
/// `replyLength` is the most reply bytes the sender accepts (0: no reply expected);
/// `messageId` is unique on its port and increases with every send.
public struct MessageHeader: Sendable, Equatable {
    public var replyLength: UInt32
    public var messageId: UInt64
}

/// FILTER_REPLY_HEADER: what a client puts in front of its reply; `messageId`
/// must be the id of a message this client got and has not yet answered.
public struct ReplyHeader: Sendable, Equatable {
    public var status: Int32
    public var messageId: UInt64

    public init(status: Int32, messageId: UInt64) {
        self.status = status
        self.messageId = messageId
    }
}

/// A message as a client gets it: the header, then the sender's payload.
public struct PortMessage<Payload: Sendable>: Sendable {
    public var header: MessageHeader
    public var payload: Payload
}

/// Anything that crosses a port. `byteCount` is its size on the wire, which a
/// reply must fit into the sender's `replyCapacity`.
public protocol PortPayload: Sendable {
    var byteCount: Int { get }
}

extension Array: PortPayload where Element == UInt8 {
    public var byteCount: Int { count }
}

/// How one `send` ended. Exactly one outcome per send; a timeout is never a reply.
public enum SendOutcome<Reply: Sendable>: Sendable {
    /// The client answered in time.
    case replied(ReplyHeader, Reply)
    /// The timeout passed; `delivered` tells whether a client had got the message.
    case timedOut(delivered: Bool)
    /// The client that had the message disconnected before answering.
    case disconnected
    /// The client answered with more bytes than the sender's reply capacity.
    case replyTooLarge(byteCount: Int, capacity: Int)
    /// No client is connected (or the last one left before the message was delivered).
    case noClient
    /// The port already holds `backlogCapacity` unanswered messages.
    case backlogFull
}

/// Why a port call failed. Each case says what the caller did not get.
public enum PortError: Error, Equatable, CustomStringConvertible {
    /// ERROR_FLT_NO_WAITER_FOR_REPLY: unknown id, a reply after the timeout, a second reply,
    /// or a message that another client got. Nothing was changed.
    case noWaiterForReply(messageId: UInt64)
    /// The server port is closed to new connections.
    case portClosed
    /// `maxConnections` clients are connected already.
    case tooManyConnections(max: Int)
    /// The filter's connect callback refused the client.
    case connectionRefused(reason: String)
    /// This client port is disconnected.
    case disconnected
    /// The filter has no message-notify callback, so client-to-filter messages fail.
    case noMessageHandler

    public var description: String {
        switch self {
        case .noWaiterForReply(let id): "no waiter is present for the reply to message \(id)"
        case .portClosed: "the port is closed to new connections"
        case .tooManyConnections(let max): "the port already has its maximum of \(max) connection(s)"
        case .connectionRefused(let reason): "the filter refused the connection: \(reason)"
        case .disconnected: "the client port is disconnected"
        case .noMessageHandler: "the filter takes no messages from clients"
        }
    }
}
