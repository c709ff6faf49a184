import DequeModule
import Dispatch
import Glibc
import Synchronization

/// The messages delivered to one client's primed gets. `delivered` is only
/// touched under the port's lock. A delivery wakes one waiting thread: while
/// deliveries come close together (see `ArrivalGap`), one waiting thread
/// spins a little before it sleeps, yielding the CPU to any thread that has
/// work, and a delivery handed to it costs no system call and no wake-up; any
/// other waiter sleeps on a semaphore that counts deliveries. No delivery
/// ever waits for a thread that is at work: who sends decides nothing about
/// who wakes.
final class ClientInbox<Message: Sendable>: @unchecked Sendable {
    let connectionId: UInt64
    var delivered = Deque<UInt64>()
    private let available = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    /// 0: no thread spins; 1: one spins; 2: a delivery was handed to the spinning thread.
    private let spinner = Atomic<Int>(0)
    private let deliveries: ArrivalGap
    /// Threads in `wait`, spinning or asleep.
    private let waiting = Atomic<Int>(0)

    /// A push client's callback (see `FilterPort.connect(context:push:)`): its messages never wait here.
    let push: (@Sendable (PortMessage<Message>) -> Void)?

    init(connectionId: UInt64, busy: BusyCPU, push: (@Sendable (PortMessage<Message>) -> Void)? = nil) {
        self.connectionId = connectionId
        deliveries = ArrivalGap(busy: busy)
        self.push = push
    }

    var isClosed: Bool { closed.load(ordering: .sequentiallyConsistent) }

    /// Threads in `wait` now, spinning or asleep.
    var waitingThreads: Int { waiting.load(ordering: .relaxed) }

    /// Whether a thread spins for the next delivery now (it would take one
    /// without a wake-up).
    var hasSpinner: Bool { spinner.load(ordering: .acquiring) == 1 }

    /// Wakes one waiting thread for one delivery: the spinning one if there is one, else a sleeper.
    func signal() {
        deliveries.arrived()
        if spinner.compareExchange(expected: 1, desired: 2, ordering: .acquiringAndReleasing).exchanged { return }
        available.signal()
    }

    /// Waits for a delivery; false when the deadline passed or the inbox closed.
    func wait(until deadline: DispatchTime) -> Bool {
        waiting.add(1, ordering: .sequentiallyConsistent)
        defer { waiting.subtract(1, ordering: .sequentiallyConsistent) }
        if spin(until: deadline) { return true }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        defer { sleepers.subtract(1, ordering: .sequentiallyConsistent) }
        if isClosed { return false }
        return available.wait(timeout: deadline) == .success && !isClosed
    }

    /// Spins while deliveries come close together, if no other thread
    /// spins; true when a delivery was handed over meanwhile.
    private func spin(until deadline: DispatchTime) -> Bool {
        let budget = deliveries.spinBudget
        guard budget > 0,
              spinner.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged
        else { return false }
        var end = min(DispatchTime.now().uptimeNanoseconds + budget, deadline.uptimeNanoseconds)
        while spinner.load(ordering: .acquiring) == 1 {
            if isClosed || DispatchTime.now().uptimeNanoseconds >= end {
                if spinner.compareExchange(expected: 1, desired: 0, ordering: .acquiringAndReleasing).exchanged {
                    return false
                }
                break  // handed over at the last moment
            }
            deliveries.busy.yield()  // a thread that has work (an opener, the reader) runs first
            if !deliveries.busy.spinningPays { end = 0 }  // a neighbour took the CPU for a time slice: sleep
        }
        spinner.store(0, ordering: .releasing)
        return true
    }

    /// Wakes every thread waiting in `wait`; they find the inbox closed.
    func close() {
        closed.store(true, ordering: .sequentiallyConsistent)
        for _ in 0..<sleepers.load(ordering: .sequentiallyConsistent) { available.signal() }
    }
}
