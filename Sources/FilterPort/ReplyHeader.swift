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
