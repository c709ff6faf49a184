import AgentLog
import Logging
import Synchronization
import XCTest

/// A sink that keeps what it is given, and can be made to stall like a journald that is busy.
final class CollectingSink: LogSink, @unchecked Sendable {
    let entries = Mutex<[LogEntry]>([])
    let stall = Atomic<Int>(0)

    func write(_ entry: LogEntry) {
        while stall.load(ordering: .relaxed) > 0 { usleep(1000) }
        entries.withLock { $0.append(entry) }
    }

    var all: [LogEntry] { entries.withLock { $0 } }
}

func decisionEntry(_ path: String, rule: String = "p:1") -> LogEntry {
    LogEntry(priority: 4, message: "deny open \(path)",
             fields: [(Field.decision, Array("deny".utf8)), (Field.rule, Array(rule.utf8)),
                      (Field.subjectExe, Array("/usr/bin/cat".utf8)), (Field.path, Array(path.utf8))],
             label: "test")
}

final class AgentLogTests: XCTestCase {
    func testEntriesGoThroughInOrder() {
        let sink = CollectingSink()
        let queue = LogQueue(sink: sink)
        for i in 0..<10 { queue.enqueue(LogEntry(priority: 6, message: "m\(i)", fields: [], label: "t")) }
        queue.stop()
        XCTAssertEqual(sink.all.map(\.message), (0..<10).map { "m\($0)" })
    }

    func testAFullQueueDropsWithoutBlockingAndReportsTheDrops() {
        let sink = CollectingSink()
        sink.stall.store(1, ordering: .relaxed)
        let queue = LogQueue(sink: sink, capacity: 4)
        let clock = ContinuousClock()
        let took = clock.measure {
            for i in 0..<100 { queue.enqueue(LogEntry(priority: 6, message: "m\(i)", fields: [], label: "t")) }
        }
        XCTAssertLessThan(took, .milliseconds(500), "enqueue never waits for the sink")
        XCTAssertGreaterThanOrEqual(queue.droppedCount, 95)
        sink.stall.store(0, ordering: .relaxed)
        queue.stop()
        let dropped = sink.all.filter { $0.field(Field.messageID) == Array(MessageID.entriesDropped.rawValue.utf8) }
        XCTAssertEqual(dropped.count, 1)
        XCTAssertTrue(dropped[0].message.hasSuffix("log entries dropped: the log queue (4 entries) was full"), dropped[0].message)
    }

    func testStormsOfSimilarEntriesAreCoalesced() {
        let sink = CollectingSink()
        let queue = LogQueue(sink: sink, rate: 5)
        for _ in 0..<50 { queue.enqueue(decisionEntry("/same")) }
        for _ in 0..<3 { queue.enqueue(decisionEntry("/other")) }
        queue.stop()
        let written = sink.all
        let summaries = written.filter { $0.field(Field.suppressed) != nil }
        XCTAssertEqual(written.count - summaries.count, 5, "log_rate entries a second are written as they are")
        let counts = Dictionary(uniqueKeysWithValues: summaries.map {
            (String(decoding: $0.field(Field.path)!, as: UTF8.self), String(decoding: $0.field(Field.suppressed)!, as: UTF8.self))
        })
        XCTAssertEqual(counts, ["/same": "45", "/other": "3"])
        XCTAssertTrue(summaries.allSatisfy { $0.message.contains("similar entr") })
    }

    func testTheHandlerKeepsRawBytesAndMetadata() {
        let sink = CollectingSink()
        let queue = LogQueue(sink: sink)
        let logger = Logger(label: "fanfilter") { QueuedLogHandler(label: $0, queue: queue) }
        let path: [UInt8] = Array("/srv/new\nline".utf8) + [0xFF]
        logger.warning("deny", metadata: [Field.path: .stringConvertible(RawBytes(path)), Field.ruleNumber: "3"])
        queue.stop()
        XCTAssertEqual(sink.all.first?.field(Field.path), path)
        XCTAssertEqual(sink.all.first?.field(Field.ruleNumber), Array("3".utf8))
        XCTAssertEqual(sink.all.first?.priority, 4)
    }
}
