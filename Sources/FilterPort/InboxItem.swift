import DequeModule
import Dispatch
import Glibc
import Synchronization

/// What a client's wait for a message found.
enum InboxItem<Message: Sendable> {
    case message(PortMessage<Message>)
    case empty
    case disconnected
}
