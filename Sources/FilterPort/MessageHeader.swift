/// FILTER_MESSAGE_HEADER: what a client finds in front of every message.
/// `replyLength` is the most reply bytes the sender accepts (0: no reply expected);
/// `messageId` is unique on its port and increases with every send.
public struct MessageHeader: Sendable, Equatable {
    public var replyLength: UInt32
    public var messageId: UInt64
}
