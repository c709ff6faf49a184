import Synchronization

/// The agent's running totals. Every permission event read counts once in
/// `events` and once in `responses` when answered.
public enum Counter: String, CaseIterable, Sendable {
    case events
    case open
    case execute
    case responses
    case allowed
    case denied
    /// Denials that permissive mode turned into allows.
    case wouldDeny = "would-deny"
    case timedOut = "timed-out"
    case overloaded
    /// Worker replies that came after their event was answered (no waiter).
    case lateReplies = "late-replies"
    /// Events left with no worker to decide them (only while stopping).
    case noWorker = "no-worker"
    /// Events of the agent's own process, allowed at once.
    case ownProcess = "own-process"
    /// Responses the kernel refused.
    case responseErrors = "response-errors"
    /// Notification events the kernel dropped (observe mode, FAN_Q_OVERFLOW).
    case queueOverflows = "queue-overflows"
    /// Policies put in force by reload.
    case reloads
    /// Ignore marks placed for allows any process would get (cache = kernel).
    case ignoreMarks = "ignore-marks"
    /// Times every ignore mark was dropped (reloads).
    case cacheFlushes = "cache-flushes"
}

/// One atomic per `Counter`, so any thread counts without a lock.
public final class Counters: Sendable {
    private nonisolated(unsafe) let storage: UnsafeMutablePointer<Atomic<UInt64>>
    private static let all = Counter.allCases

    public init() {
        storage = .allocate(capacity: Self.all.count)
        for i in Self.all.indices { (storage + i).initialize(to: Atomic(0)) }
    }

    deinit {
        storage.deinitialize(count: Self.all.count)
        storage.deallocate()
    }

    private func index(_ c: Counter) -> Int { Self.all.firstIndex(of: c)! }

    func increment(_ c: Counter) { storage[index(c)].wrappingAdd(1, ordering: .relaxed) }

    public subscript(_ c: Counter) -> UInt64 { storage[index(c)].load(ordering: .relaxed) }

    /// `events=12 open=10 …`, every counter in a stable order.
    public var summary: String {
        Self.all.map { "\($0.rawValue)=\(self[$0])" }.joined(separator: " ")
    }
}
