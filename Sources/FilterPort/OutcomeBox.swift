import DequeModule
import Dispatch
import Synchronization

/// Holds the outcome of a blocking send until it arrives.
final class OutcomeBox<Reply: Sendable>: Sendable {
    private let value = Mutex<SendOutcome<Reply>?>(nil)
    private let ready = DispatchSemaphore(value: 0)
    func set(_ outcome: SendOutcome<Reply>) {
        value.withLock { $0 = outcome }
        ready.signal()
    }
    func wait() -> SendOutcome<Reply> {
        ready.wait()
        return value.withLock { $0! }
    }
}
