import Clocks
import Glibc
import Synchronization

/// Whether spinning pays on this machine now. A spinning thread yields the
/// CPU between looks; a yield that kept it off the CPU for longer than
/// `slowYield` means another thread ran a whole time slice there (the
/// scheduler's slice is 0.75 ms or more): a CPU-bound neighbour, on a busy
/// machine, where a spinner waits behind it for milliseconds at such looks
/// (docs/performance.md has what that cost). Quick yields between slow ones prove
/// nothing: a spinner that waits for another process's answer (a client's
/// reply) hands the CPU to that process one time and to the busy neighbour
/// the next. So two slow yields less than `window` apart, whatever came
/// between them, stop every spin that asks this detector for `backOff`, and
/// waiting threads sleep at once; the next spin after that finds out again.
/// On an idle machine a yield hands the CPU at most to a thread that does a
/// little work and blocks (an opener, the reader): microseconds; a virtual
/// CPU the host takes away for a moment stays under `slowYield` (the yields
/// measured, idle and busy, are in docs/performance.md).
public final class BusyCPU: Sendable {
    /// A yield longer than this (ns) is a time slice given to another thread.
    public static let slowYield: UInt64 = 500_000
    /// Two slow yields less than this apart (ns) mean a busy machine.
    public static let window: UInt64 = 50_000_000
    /// How long (ns) spinning stays off after that.
    public static let backOff: UInt64 = 100_000_000
    private let clock: any MonotonicClock
    private let spinningOffUntil = Atomic<UInt64>(0)
    private let allowed = Atomic<Bool>(true)
    /// When the last slow yield ended (0: none yet).
    private let lastSlowYield = Atomic<UInt64>(0)

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
        guard after &- before > Self.slowYield else { return }
        let previous = lastSlowYield.exchange(after, ordering: .relaxed)
        if previous != 0, after &- previous < Self.window {
            spinningOffUntil.store(after &+ Self.backOff, ordering: .relaxed)
        }
    }

    /// False while the machine was seen busy (for `backOff` after the second
    /// of two slow yields within `window`), and always once spinning is not allowed.
    public var spinningPays: Bool {
        allowed.load(ordering: .relaxed) && clock.now() >= spinningOffUntil.load(ordering: .relaxed)
    }

    /// Allows spinning where it pays (the default), or never (the least CPU per event).
    public func allowSpinning(_ yes: Bool) { allowed.store(yes, ordering: .relaxed) }
}
