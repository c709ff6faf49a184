import Dispatch

/// CLOCK_MONOTONIC, through Dispatch (whose waits use the same clock).
public struct SystemClock: MonotonicClock {
    public init() {}

    public func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    public func wait(_ semaphore: DispatchSemaphore, until deadline: UInt64?) -> Bool {
        guard let deadline else {
            semaphore.wait()
            return true
        }
        return semaphore.wait(timeout: DispatchTime(uptimeNanoseconds: deadline)) == .success
    }
}
