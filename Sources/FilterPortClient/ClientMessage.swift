import PortProtocol

/// A message as a decider gets it: FILTER_MESSAGE_HEADER's reply length and
/// message id, the event, and with `pass_fd` a read-only descriptor of the
/// file, which the receiver owns and must close.
public struct ClientMessage: Sendable {
    public var replyLength: UInt32
    public var messageId: UInt64
    public var event: EventRecord
    /// -1 when none came.
    public var descriptor: Int32
}
