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
