import DequeModule
import Dispatch
import FilterPort
import Synchronization
import SystemCall

/// Threads of their own for the messages the event reader took and found it
/// would have to wait for (a file to hash or read, the executable to open):
/// as many as there are workers, so a spilled decision waits for a thread no
/// more than a worker's would, and each may wait until its event's deadline
/// without holding another.
final class SpillThreads: Sendable {
    private let queue = Mutex(Deque<PortMessage<EventMessage>>())
    private let available = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)

    private let count: Int
    private let priorityBoost: Int
    private let group: DispatchGroup

    init(count: Int, priorityBoost: Int, group: DispatchGroup) {
        self.count = count
        self.priorityBoost = priorityBoost
        self.group = group
    }

    /// Starts the threads; each hands the messages it takes to `handle`.
    func start(handle: @escaping @Sendable (PortMessage<EventMessage>) -> Void) {
        for n in 0..<count {
            DispatchQueue(label: "fanfilter.spill.\(n)").async(group: group) { [self] in
                ThreadPriority.boosted(by: priorityBoost) {
                    while true {
                        available.wait()
                        guard let message = queue.withLock({ $0.popFirst() }) else { return }  // stopped
                        handle(message)
                    }
                }
            }
        }
    }

    func push(_ message: PortMessage<EventMessage>) {
        queue.withLock { $0.append(message) }
        available.signal()
    }

    /// Lets every thread leave once the messages queued are handled.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        for _ in 0..<count { available.signal() }
    }
}
