import Dispatch

/// The agent's one notion of time: a monotonic clock in nanoseconds, and a
/// wait on it. Deadlines (the port's timeouts), spin budgets (`ArrivalGap`),
/// latencies, the log's once-a-second rate and the mount table's rereads all
/// read it. `SystemClock` is the machine's; tests pass one they advance by
/// hand (TestSupport's `ManualClock`), so a timeout is reached without sleeping.
public protocol MonotonicClock: Sendable {
    /// Nanoseconds on this clock.
    func now() -> UInt64
    /// Waits until `semaphore` is signalled (true) or this clock reaches
    /// `deadline` (false); with no deadline, until signalled.
    func wait(_ semaphore: DispatchSemaphore, until deadline: UInt64?) -> Bool
}

extension MonotonicClock {
    /// Now plus `d`, saturating (negative: now).
    public func deadline(after d: Duration) -> UInt64 {
        let (seconds, attoseconds) = d.components
        guard seconds > 0 || (seconds == 0 && attoseconds > 0) else { return now() }
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, carry) = now().addingReportingOverflow(UInt64(ns) &+ UInt64(attoseconds / 1_000_000_000))
        return carry ? .max : sum
    }

    /// Whole seconds on this clock.
    public func seconds() -> Int64 { Int64(now() / 1_000_000_000) }
}
