import Clocks
import Glibc
import Synchronization
import SystemCall

/// How many events the reader may take from the kernel now. The kernel makes
/// an event's file descriptors (the file's, and a pidfd) as the reader reads
/// it; when the agent has none left, it denies the event itself, an allowed
/// open refused for want of a descriptor. So the reader reads no more events
/// than there are descriptors for, and leaves the rest in the kernel's queue,
/// their openers waiting, until answered events close theirs.
///
/// Guarantee: the count never takes more than the soft RLIMIT_NOFILE allows,
/// less the agent's other open files (counted in /proc/self/fd when the
/// budget runs low, at most every `recount` nanoseconds) and `slack` for the
/// files other threads open for a moment; and while no event waits for an
/// answer it is at least one, so the reader always makes progress (an
/// answered event whose descriptors are still held, by a hash under way,
/// closes them soon).
package final class DescriptorBudget: Sendable {
    /// Descriptors held by events now (`EventFile`).
    static let held = Atomic<Int>(0)

    private let limit: Int
    private let perEvent: Int
    /// The agent's open files besides events', as last counted.
    private let others = Atomic<Int>(0)
    private let countedAt = Atomic<UInt64>(0)
    private let clock: any MonotonicClock
    static let slack = 8
    static let recount: UInt64 = 10_000_000

    /// - Parameter perEvent: descriptors one event takes (2 with pidfds).
    package init(perEvent: Int, clock: any MonotonicClock = SystemClock()) {
        let soft = OpenFileLimit.current?.soft ?? .max
        limit = soft < UInt64(Int.max) ? Int(soft) : Int.max
        self.perEvent = max(1, perEvent)
        self.clock = clock
        others.store(Self.openFiles() - Self.held.load(ordering: .relaxed), ordering: .relaxed)
        countedAt.store(clock.now(), ordering: .relaxed)
    }

    /// How many events fit now (at least one while none is `inFlight`: read and not answered).
    package func eventsThatFit(inFlight: Int) -> Int {
        guard limit != Int.max else { return Int.max }
        let held = Self.held.load(ordering: .relaxed)
        var free = limit - others.load(ordering: .relaxed) - held - Self.slack
        if free < 64 * perEvent, clock.now() &- countedAt.load(ordering: .relaxed) >= Self.recount {
            // Low: count again what else is open (a client connected, a log file).
            others.store(max(0, Self.openFiles() - Self.held.load(ordering: .relaxed)), ordering: .relaxed)
            countedAt.store(clock.now(), ordering: .relaxed)
            free = limit - others.load(ordering: .relaxed) - held - Self.slack
        }
        return max(inFlight == 0 ? 1 : 0, free / perEvent)
    }

    /// The process's open files, from /proc/self/fd (less the folder's own).
    static func openFiles() -> Int {
        var count = 0
        try? Directory.forEachEntry(in: "/proc/self/fd") { _ in count += 1; return true }
        return max(0, count - 1)
    }
}
