import Clocks
import DequeModule
import Dispatch
import Glibc
import Synchronization

/// The bounded queue between the threads that log and the one thread that
/// writes. `enqueue` never blocks and never waits on the journal: a reply is
/// never delayed by logging. When the queue is full the entry is dropped and
/// counted; the count is logged once the queue has drained. Beyond `rate`
/// entries a second, similar decision entries (same decision, rule, exe and
/// path) are coalesced into one "N similar entries suppressed" entry.
public final class LogQueue: Sendable {
    private struct State {
        var entries = Deque<LogEntry>()
        var dropped: UInt64 = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let drained = Atomic<UInt64>(0)
    private let enqueued = Atomic<UInt64>(0)
    public let capacity: Int
    /// Most entries a second before similar ones are coalesced (the policy's log_rate).
    public let rate: Atomic<Int>
    private let sink: LogSink
    /// Times the log_rate windows (a clock tests can move).
    private let clock: any MonotonicClock

    public init(sink: LogSink, capacity: Int = 8192, rate: Int = 100, clock: any MonotonicClock = SystemClock()) {
        self.clock = clock
        self.sink = sink
        self.capacity = capacity
        self.rate = Atomic(rate)
        DispatchQueue(label: "fanfilter.log").async { [self] in
            drain()
            done.signal()
        }
    }

    /// Queues an entry, or drops it when the queue is full. Never blocks.
    public func enqueue(_ entry: LogEntry) {
        let accepted = state.withLock { s -> Bool in
            guard s.entries.count < capacity, !s.stopped else {
                s.dropped += 1
                return false
            }
            s.entries.append(entry)
            return true
        }
        if accepted {
            enqueued.add(1, ordering: .relaxed)
            available.signal()
        }
    }

    /// Entries dropped so far because the queue was full.
    public var droppedCount: UInt64 { state.withLock { $0.dropped } }

    /// Waits (at most `timeout`) until everything queued so far is written.
    public func flush(timeout: Duration = .seconds(2)) {
        let target = enqueued.load(ordering: .relaxed)
        let deadline = SystemClock().deadline(after: timeout)
        while drained.load(ordering: .relaxed) < target, SystemClock().now() < deadline { usleep(1000) }
    }

    /// Writes what is queued and stops the writer thread.
    public func stop() {
        flush()
        state.withLock { $0.stopped = true }
        available.signal()
        done.wait()
    }

    private func drain() {
        var window = Coalescer()
        var reportedDrops: UInt64 = 0
        while true {
            let timedOut = available.wait(timeout: .now() + .seconds(1)) == .timedOut
            let (entry, stopped, dropped) = state.withLock { s in (s.entries.popFirst(), s.stopped, s.dropped) }
            let now = clock.seconds()
            for summary in window.roll(to: now) { sink.write(summary) }
            if let entry {
                if window.admit(entry, rate: rate.load(ordering: .relaxed)) { sink.write(entry) }
                drained.add(1, ordering: .relaxed)
            } else if !timedOut && stopped {
                for summary in window.roll(to: .max) { sink.write(summary) }
                return
            }
            if entry == nil || state.withLock({ $0.entries.isEmpty }), dropped > reportedDrops {
                sink.write(LogEntry(priority: 4, message: "\(dropped - reportedDrops) log entries dropped: the log queue (\(capacity) entries) was full",
                                    fields: [(Field.messageID, Array(MessageID.entriesDropped.rawValue.utf8)),
                                             (Field.dropped, Array(String(dropped - reportedDrops).utf8))],
                                    label: "fanfilter"))
                reportedDrops = dropped
            }
        }
    }
}

