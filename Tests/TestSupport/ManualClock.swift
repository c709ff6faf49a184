import Clocks
import Dispatch
import FilterPort
import Synchronization

/// A port clock that moves only when a test advances it: a timeout falls due
/// exactly when the test says, and nothing sleeps to reach it.
public final class ManualClock: MonotonicClock {
    private struct State {
        var now: UInt64
        var waiters: [ObjectIdentifier: DispatchSemaphore] = [:]
    }

    private let state: Mutex<State>

    public init(start: UInt64 = 1_000_000_000) { state = Mutex(State(now: start)) }

    public func now() -> UInt64 { state.withLock { $0.now } }

    /// Moves the clock on and wakes every waiter to look again.
    public func advance(by d: Duration) {
        let (seconds, attoseconds) = d.components
        let waiters = state.withLock { s -> [DispatchSemaphore] in
            s.now += UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiters { w.signal() }
    }

    /// Moves the clock on without waking a waiter: a timer thread that is
    /// late (preempted), so a test can show what happens before it runs.
    public func advanceUnseen(by d: Duration) {
        let (seconds, attoseconds) = d.components
        state.withLock { $0.now += UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000) }
    }

    public func wait(_ semaphore: DispatchSemaphore, until deadline: UInt64?) -> Bool {
        let due = state.withLock { s -> Bool in
            if let deadline, s.now >= deadline { return true }
            s.waiters[ObjectIdentifier(semaphore)] = semaphore
            return false
        }
        if due { return false }
        semaphore.wait()
        return true
    }
}
