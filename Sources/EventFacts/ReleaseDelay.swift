import Clocks
import Dispatch
import DequeModule
import Synchronization

/// Keeps objects a fixed time, then lets them go, on a thread of its own.
/// The thread waits on a semaphore, not a timer: it makes no descriptor,
/// so it works when the agent has none left (libdispatch's first timer
/// opens three, and ends the process when it cannot).
///
/// Guarantee: an object held is released no sooner than `delay` after
/// `hold`, and soon after that (one wake-up of the thread). The thread, and
/// so the instance, lasts as long as the process.
package final class ReleaseDelay: Sendable {
    private let delay: UInt64
    private let clock: any MonotonicClock
    /// In the order held: with one delay for all, also the order of their deadlines.
    private let held = Mutex(Deque<(deadline: UInt64, object: any Sendable)>())
    private let wake = DispatchSemaphore(value: 0)

    package init(delay: Duration, clock: any MonotonicClock = SystemClock(), label: String) {
        self.delay = UInt64(max(0, delay.nanoseconds))
        self.clock = clock
        DispatchQueue(label: label).async { [self] in run() }
    }

    /// Keeps `object` for the delay.
    package func hold(_ object: any Sendable) {
        let first = held.withLock { h in
            h.append((clock.now() + delay, object))
            return h.count == 1
        }
        if first { wake.signal() }
    }

    /// How many objects are held now.
    package var count: Int { held.withLock { $0.count } }

    private func run() {
        while true {
            var expired: [any Sendable] = []
            let next = held.withLock { h -> UInt64? in
                let now = clock.now()
                while let front = h.first, front.deadline <= now { expired.append(h.removeFirst().object) }
                return h.first.map { $0.deadline - now }
            }
            expired.removeAll()  // released here, outside the lock
            if let next { _ = wake.wait(timeout: .now() + .nanoseconds(Int(clamping: next))) } else { wake.wait() }
        }
    }
}
