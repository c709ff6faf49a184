import Dispatch

/// The port's notion of time: when a message's timeout falls due, and how its
/// timer thread waits for it. `SystemPortClock` is the machine's monotonic
/// clock; tests pass one they advance by hand, so a timeout is reached
/// without sleeping.
public protocol PortClock: Sendable {
    /// Nanoseconds on this clock (monotonic).
    func now() -> UInt64
    /// Waits until `semaphore` is signalled (true) or this clock reaches
    /// `deadline` (false); with no deadline, until signalled.
    func wait(_ semaphore: DispatchSemaphore, until deadline: UInt64?) -> Bool
}

/// CLOCK_MONOTONIC, through Dispatch.
public struct SystemPortClock: PortClock {
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

extension PortClock {
    /// Now plus `d`, saturating (negative: now).
    func deadline(after d: Duration) -> UInt64 {
        let (seconds, attoseconds) = d.components
        guard seconds > 0 || (seconds == 0 && attoseconds > 0) else { return now() }
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, carry) = now().addingReportingOverflow(UInt64(ns) &+ UInt64(attoseconds / 1_000_000_000))
        return carry ? .max : sum
    }
}
