import Synchronization

/// Lets at most `limit` callers a second through, from any thread, without
/// a lock: for work worth doing now and then but not for every event of a
/// storm (reading the file and process of each overloaded event to log it).
///
/// Guarantee: within one second of the clock given to `pass` (whole
/// seconds of its nanoseconds), at most `limit` calls return true.
final class RateGate: Sendable {
    /// The second (high 32 bits) and how many passed in it (low 32 bits).
    private let state = Atomic<UInt64>(0)

    /// Whether one more may pass in the second that holds `now` (nanoseconds).
    func pass(limit: Int, now: UInt64) -> Bool {
        let second = (now / 1_000_000_000) & 0xffff_ffff
        while true {
            let old = state.load(ordering: .relaxed)
            let new: UInt64
            if old >> 32 == second {
                guard old & 0xffff_ffff < UInt64(max(0, limit)) else { return false }
                new = old + 1
            } else {
                guard limit > 0 else { return false }
                new = second << 32 | 1
            }
            if state.compareExchange(expected: old, desired: new, ordering: .relaxed).exchanged { return true }
        }
    }
}
