import DequeModule
import Dispatch
import PortProtocol
import Synchronization

/// A copy of every decision for the observers (`fanfilter monitor`), without
/// ever slowing the agent: `publish` appends to each observer's bounded
/// queue and never waits; an observer whose queue is full loses the entry,
/// and the next entry queued for it says how many it lost just before it,
/// so the count sits at the gap in the sequence numbers. With no observer,
/// `isWatched` is false and the agent builds no record at all.
public final class ObserverFeed: Sendable {
    /// Entries an observer may fall behind by before it loses some.
    public static let capacity = 4096

    private final class Queue: @unchecked Sendable {
        var entries = Deque<DecisionRecord>()
        var lost: UInt32 = 0
        var closed = false
        let deniedOnly: Bool
        let ready = DispatchSemaphore(value: 0)
        init(deniedOnly: Bool) { self.deniedOnly = deniedOnly }
    }

    private struct State {
        var queues: [UInt64: Queue] = [:]
        var sequence: UInt64 = 0
    }

    private let state = Mutex(State())
    private let observers = Atomic<Int>(0)

    public init() {}

    /// Whether any observer is connected (a relaxed read, for the event path).
    public var isWatched: Bool { observers.load(ordering: .relaxed) > 0 }

    /// Hands a copy of `record` to every observer that wants it.
    public func publish(_ record: DecisionRecord) {
        let denied = record.verdict == .deny
        let wake = state.withLock { s -> [Queue] in
            s.sequence += 1
            var wake: [Queue] = []
            for queue in s.queues.values where !queue.deniedOnly || denied {
                if queue.entries.count >= Self.capacity {
                    queue.lost &+= 1
                    continue
                }
                var copy = record
                copy.sequence = s.sequence
                copy.lost = queue.lost
                queue.lost = 0
                queue.entries.append(copy)
                wake.append(queue)
            }
            return wake
        }
        for queue in wake { queue.ready.signal() }
    }

    func add(_ id: UInt64, deniedOnly: Bool) {
        state.withLock { $0.queues[id] = Queue(deniedOnly: deniedOnly) }
        observers.add(1, ordering: .relaxed)
    }

    func remove(_ id: UInt64) {
        guard let queue = state.withLock({ $0.queues.removeValue(forKey: id) }) else { return }
        observers.subtract(1, ordering: .relaxed)
        state.withLock { _ in queue.closed = true }
        queue.ready.signal()
    }

    /// The observer's next entry (with the count lost just before it); nil once removed.
    func next(for id: UInt64) -> DecisionRecord? {
        guard let queue = state.withLock({ $0.queues[id] }) else { return nil }
        while true {
            let entry = state.withLock { _ -> DecisionRecord?? in
                if queue.closed { return .some(nil) }
                guard let entry = queue.entries.popFirst() else { return nil }
                return .some(entry)
            }
            if let entry { return entry }
            queue.ready.wait()
        }
    }
}
