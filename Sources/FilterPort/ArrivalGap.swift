import Clocks
import Dispatch
import Synchronization

/// The moving average of the gaps between arrivals (of deliveries, of
/// events), and from it how long a thread that waits for the next one should
/// spin before it sleeps: a little longer than the usual gap while arrivals
/// come less than `maxSpin` apart, not at all otherwise, nor while the
/// machine is busy (see `BusyCPU`). A spinning thread
/// yields the CPU between looks, so threads with work run first. Spinning
/// trades CPU time for the wake-up of a sleeping thread, which costs tens of
/// microseconds on a virtual machine.
public final class ArrivalGap: Sendable {
    /// The longest a waiting thread spins, in nanoseconds.
    public static let maxSpin: UInt64 = 200_000

    private let last = Atomic<UInt64>(0)
    private let average = Atomic<UInt64>(.max)
    private let clock: any MonotonicClock
    /// Says whether spinning pays now.
    public let busy: BusyCPU

    /// Arrivals are timed on `clock` (tests pass one they advance, with a `BusyCPU` on it).
    public init(clock: any MonotonicClock = SystemClock(), busy: BusyCPU) {
        self.clock = clock
        self.busy = busy
    }

    /// Notes an arrival now.
    public func arrived() {
        let now = clock.now()
        let previous = last.exchange(now, ordering: .relaxed)
        let gap = previous == 0 ? UInt64.max : now &- previous
        let old = average.load(ordering: .relaxed)
        average.store(old == .max || gap == .max ? gap : old - old / 8 + gap / 8, ordering: .relaxed)
    }

    /// How long to spin for the next arrival, in nanoseconds (0: sleep at once).
    public var spinBudget: UInt64 {
        let gap = average.load(ordering: .relaxed)
        guard gap < Self.maxSpin, busy.spinningPays else { return 0 }
        return min(gap * 2, Self.maxSpin)
    }
}
