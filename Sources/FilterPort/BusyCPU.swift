import Clocks
import Glibc
import Synchronization

/// Whether spinning pays on this machine now. A spinning thread yields the
/// CPU between looks; a yield that kept it off the CPU for longer than
/// `slowYield` means another thread ran a whole time slice there: a
/// CPU-bound neighbour, on a busy machine, where a spinner waits behind it
/// at every look (measured: a median of 3 to 13 times the minimal listener's
/// latency, and runs 10 times slower than others). After `slowInARow` such
/// yields with no quick one between them, every spin that asks this detector
/// stops for `backOff`, and waiting threads sleep at once; the next spin
/// after that finds out again. On an idle machine a yield hands the CPU at
/// most to a thread that does a little work and blocks (an opener, the
/// reader): microseconds; a virtual CPU the host takes away for a moment
/// makes one slow yield, not several in a row.
public final class BusyCPU: Sendable {
    /// A yield longer than this (ns) is a time slice given to another thread.
    public static let slowYield: UInt64 = 50_000
    /// How many slow yields in a row mean a busy machine.
    public static let slowInARow = 3
    /// How long (ns) spinning stays off after that.
    public static let backOff: UInt64 = 100_000_000
    /// The process's detector: the event reader and every client inbox share it.
    public static let shared = BusyCPU()

    private let clock: any MonotonicClock
    private let spinningOffUntil = Atomic<UInt64>(0)
    private let allowed = Atomic<Bool>(true)
    private let slowYields = Atomic<Int>(0)

    /// Yields are timed on `clock` (tests pass one they move).
    public init(clock: any MonotonicClock = SystemClock()) { self.clock = clock }

    /// Gives up the CPU once, as a spinning thread does between looks, and
    /// notes a busy machine if that took more than `slowYield`.
    public func yield() {
        let before = clock.now()
        sched_yield()
        noteYield(from: before, to: clock.now())
    }

    /// Notes a yield that lasted from `before` to `after` on this detector's clock.
    public func noteYield(from before: UInt64, to after: UInt64) {
        guard after &- before > Self.slowYield else {
            if slowYields.load(ordering: .relaxed) != 0 { slowYields.store(0, ordering: .relaxed) }
            return
        }
        if slowYields.add(1, ordering: .relaxed).newValue >= Self.slowInARow {
            slowYields.store(0, ordering: .relaxed)
            spinningOffUntil.store(after &+ Self.backOff, ordering: .relaxed)
        }
    }

    /// False while the machine was seen busy (for `backOff` after the last of
    /// `slowInARow` slow yields), and always once spinning is not allowed.
    public var spinningPays: Bool {
        allowed.load(ordering: .relaxed) && clock.now() >= spinningOffUntil.load(ordering: .relaxed)
    }

    /// Allows spinning where it pays (the default), or never (the least CPU per event).
    public func allowSpinning(_ yes: Bool) { allowed.store(yes, ordering: .relaxed) }
}
