import Dispatch
import FilterPort
import Synchronization

extension FilterPort {
    /// `send`, waiting for its one outcome: the tests' shorthand for a blocking FltSendMessage.
    public func sendAndWait(_ message: Message, replyCapacity: Int, timeout: Duration) -> SendOutcome<Reply> {
        let result = Mutex<SendOutcome<Reply>?>(nil)
        let done = DispatchSemaphore(value: 0)
        send(message, replyCapacity: replyCapacity, timeout: timeout) { _, _, outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}
