import Clocks
import Dispatch
import Glibc
import HeapModule
import Synchronization

/// Fires `expire(id)` for every scheduled id whose deadline has passed and
/// that was not cancelled, from one thread of its own. The thread sleeps until
/// the earliest deadline still live and is woken only when a new deadline
/// comes before it; with nothing live it sleeps one interval (the last
/// timeout scheduled) at a time, so a steady flow of sends with one timeout
/// never has to wake it. Cancelled entries are dropped when they reach the
/// front, so answered messages cost it no wake-up.
final class DeadlineTimer: Sendable {
    private struct Entry: Comparable {
        var deadline: UInt64
        var id: UInt64
        static func < (a: Entry, b: Entry) -> Bool {
            (a.deadline, a.id) < (b.deadline, b.id)
        }
    }

    private struct State {
        var heap = Heap<Entry>()
        /// The ids scheduled and neither fired nor cancelled.
        var live = Set<UInt64>()
        /// The deadline the thread sleeps until (nil: until woken).
        var sleepingUntil: UInt64? = nil
        /// The span from scheduling to deadline of the last entry: how long an idle thread sleeps.
        var interval: UInt64 = 0
        var stopped = false
        /// The timer's own thread, so `stop()` called from it does not wait for itself.
        var thread: pthread_t? = nil
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    let clock: any MonotonicClock

    /// Deadlines are on `clock`, in its nanoseconds.
    init(name: String, clock: any MonotonicClock = SystemClock(), expire: @escaping @Sendable (UInt64) -> Void) {
        self.clock = clock
        DispatchQueue(label: name).async { [self] in
            run(expire)
            done.signal()
        }
    }

    func schedule(_ id: UInt64, at deadline: UInt64) {
        let now = clock.now()
        let mustWake = state.withLock { s -> Bool in
            s.heap.insert(Entry(deadline: deadline, id: id))
            s.live.insert(id)
            s.interval = deadline &- min(now, deadline)
            guard let until = s.sleepingUntil else { return true }
            if deadline < until { s.sleepingUntil = deadline; return true }
            return false
        }
        if mustWake { wake.signal() }
    }

    /// The id will not fire (its message was answered).
    func cancel(_ id: UInt64) {
        _ = state.withLock { $0.live.remove(id) }
    }

    /// Stops the thread and waits for it to leave (unless called from it, by
    /// an `expire` that released the port's last reference); pending deadlines never fire. Idempotent.
    func stop() {
        let (first, onTimerThread) = state.withLock { s -> (Bool, Bool) in
            defer { s.stopped = true }
            return (!s.stopped, s.thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false)
        }
        guard first else { return }  // idempotent
        wake.signal()
        if !onTimerThread { done.wait() }
    }

    private func run(_ expire: @Sendable (UInt64) -> Void) {
        state.withLock { $0.thread = pthread_self() }
        var due: [UInt64] = []
        while true {
            let next: UInt64?? = state.withLock { s in
                if s.stopped { return .none }
                let now = clock.now()
                while let first = s.heap.min, first.deadline <= now || !s.live.contains(first.id) {
                    let id = s.heap.removeMin().id
                    if s.live.remove(id) != nil { due.append(id) }
                }
                if !due.isEmpty { s.sleepingUntil = nil; return .some(now) }
                let (idleUntil, overflow) = now.addingReportingOverflow(s.interval)
                s.sleepingUntil = s.heap.min?.deadline ?? (s.interval > 0 && !overflow ? idleUntil : nil)
                return .some(s.sleepingUntil)
            }
            guard let next else { return }  // stopped
            for id in due { expire(id) }
            if !due.isEmpty { due.removeAll(keepingCapacity: true); continue }
            _ = clock.wait(wake, until: next)
        }
    }
}

extension DispatchTime {
    /// Now plus `d` (negative: now; too far to count: never).
    public static func after(_ d: Duration) -> DispatchTime {
        let (seconds, attoseconds) = d.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return .now() }
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || ns > Int64(Int.max / 2) { return .distantFuture }
        return .now() + .nanoseconds(Int(ns + attoseconds / 1_000_000_000))
    }
}
