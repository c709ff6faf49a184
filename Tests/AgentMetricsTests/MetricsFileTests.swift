import AgentCounts
import AgentMetrics
import FanFilter
import Foundation
import Glibc
import Policy
import Synchronization
import TestSupport
import XCTest

/// The metrics file: what it holds after events, that each write replaces it
/// whole, that Prometheus' own parser reads it, and that a write that fails
/// is reported.
final class MetricsFileTests: ScriptedTestCase {
    /// What the file writer reported.
    final class Reports: Sendable {
        let said = Mutex<[String]>([])
    }

    private func metrics(_ agent: Agent, path: String, reports: Reports = Reports()) -> MetricsFile {
        MetricsFile(path: path, interval: .seconds(3600), agent: agent, version: "test") { message in
            reports.said.withLock { $0.append(message) }
        }
    }

    private func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func testTheFileHoldsTheAgentsNumbersAndEachWriteReplacesItWhole() throws {
        let denied = sandbox.file("denied")
        let allowed = sandbox.file("allowed")
        let agent = try startAgent("watch = $ROOT\ndeny perm=open all : path=$ROOT/denied")
        let path = sandbox.root + "/fanfilter.prom"
        let file = metrics(agent, path: path)
        XCTAssertEqual(answers([denied, allowed, allowed]), [.deny, .allow, .allow])
        file.write()
        var text = try lines(path)
        XCTAssertTrue(text.contains("# TYPE fanfilter_events_total counter"), "\(text)")
        XCTAssertTrue(text.contains("fanfilter_events_total 3"), "\(text)")
        XCTAssertTrue(text.contains("fanfilter_denied_total 1"), "\(text)")
        XCTAssertTrue(text.contains("fanfilter_allowed_total 2"), "\(text)")
        XCTAssertTrue(text.contains("fanfilter_policy_rules 1.0"), "\(text)")
        XCTAssertTrue(text.contains("fanfilter_events_in_flight 0.0"), "\(text)")
        XCTAssertTrue(text.contains("fanfilter_cache_entries 2.0"), "the denied and the allowed file: \(text)")
        XCTAssertTrue(text.contains("fanfilter_port_clients 0.0"), "no socket port, no clients: \(text)")
        XCTAssertTrue(text.contains { $0.hasPrefix("fanfilter_info{") && $0.contains("mode=\"enforce\"") && $0.hasSuffix(" 1.0") }, "\(text)")
        XCTAssertEqual(answers([denied]), [.deny])
        file.write()
        text = try lines(path)
        XCTAssertTrue(text.contains("fanfilter_events_total 4"), "counters go on from the last write: \(text)")
        XCTAssertTrue(text.contains("fanfilter_denied_total 2"), "\(text)")
        XCTAssertTrue(text.contains("fanfilter_rule_hits_total{rule=\"1\",location=\"test.policy:2\",decision=\"deny\"} 2"),
                      "the rule's hits (the allows came from no rule): \(text.filter { $0.contains("rule_hits") })")
        // A reload starts new counts; the series goes on from where it was.
        _ = try agent.reload(try policy("watch = $ROOT\ndeny perm=open all : path=$ROOT/denied", in: sandbox))
        XCTAssertEqual(answers([denied]), [.deny])
        file.write()
        text = try lines(path)
        XCTAssertTrue(text.contains("fanfilter_rule_hits_total{rule=\"1\",location=\"test.policy:2\",decision=\"deny\"} 3"),
                      "\(text.filter { $0.contains("rule_hits") })")
        // Another mode: one info series, with the new labels.
        _ = try agent.reload(try policy("watch = $ROOT\nmode = permissive\ndeny perm=open all : path=$ROOT/denied", in: sandbox))
        file.write()
        let infos = try lines(path).filter { $0.hasPrefix("fanfilter_info{") }
        XCTAssertEqual(infos.count, 1, "\(infos)")
        XCTAssertTrue(infos.first?.contains("mode=\"permissive\"") ?? false, "\(infos)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"), "the temporary file was renamed over the file")
        stop(agent)
    }

    func testTheLatencyHistogramsCountEveryEventInCumulativeBuckets() throws {
        let files = (0..<5).map { sandbox.file("f\($0)") }
        let agent = try startAgent("watch = $ROOT\ncache = off\ndeny perm=open all : path=$ROOT/f0")
        let path = sandbox.root + "/fanfilter.prom"
        let file = metrics(agent, path: path)
        XCTAssertEqual(answers(files), [.deny, .allow, .allow, .allow, .allow])
        file.write()
        let text = try lines(path)
        func value(_ line: String) -> Double? { text.first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last!) } }
        for name in ["fanfilter_decision_latency_seconds", "fanfilter_worker_wait_seconds", "fanfilter_policy_evaluation_seconds"] {
            XCTAssertEqual(value(name + "_count"), 5, "\(name): \(text.filter { $0.hasPrefix(name) })")
            XCTAssertEqual(value(name + "_bucket{le=\"+Inf\"}"), 5, name)
            let buckets = LatencyHistogram.bounds.map { value(name + "_bucket{le=\"\(Double($0) / 1e9)\"}") ?? -1 }
            XCTAssertEqual(buckets, buckets.sorted(), "\(name): cumulative, never falling")
            XCTAssertGreaterThan(value(name + "_sum") ?? 0, 0, name)
        }
        XCTAssertEqual(value("fanfilter_client_latency_seconds_count"), 0, "no client, nothing asked")
        XCTAssertEqual(answers([files[1]]), [.allow])
        file.write()
        XCTAssertEqual(try lines(path).first { $0.hasPrefix("fanfilter_decision_latency_seconds_count ") }, "fanfilter_decision_latency_seconds_count 6",
                       "a write adds what came since the last")
        stop(agent)
    }

    func testALatencyHistogramPutsEachDurationInItsBucket() {
        let h = LatencyHistogram()
        for ns: UInt64 in [0, 1, 1024, 1025, 2048, 1 << 30, (1 << 30) + 1, .max / 2] { h.record(nanoseconds: ns) }
        let s = h.snapshot
        XCTAssertEqual(s.map(\.count).reduce(0, +), 8)
        XCTAssertEqual(s[0].count, 3, "0, 1 and 1024 ns: at or under the first bound")
        XCTAssertEqual(s[0].sumNanoseconds, 1025)
        XCTAssertEqual(s[1].count, 2, "1025 and 2048 ns")
        XCTAssertEqual(s[1].sumNanoseconds, 3073)
        XCTAssertEqual(s[LatencyHistogram.bounds.count - 1].count, 1, "2^30 ns: the last bound")
        XCTAssertEqual(s[LatencyHistogram.bounds.count].count, 2, "past every bound")
        h.record(from: 10, to: 5)
        XCTAssertEqual(h.snapshot.map(\.count).reduce(0, +), 8, "an end before its start is not a duration")
    }

    func testPrometheusOwnParserReadsIt() throws {
        guard FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/prometheus_client/parser.py") else {
            throw XCTSkip("needs python3-prometheus-client")
        }
        let agent = try startAgent("watch = $ROOT\nallow all : all")
        XCTAssertEqual(answers([sandbox.file("a")]), [.allow])
        let path = sandbox.root + "/fanfilter.prom"
        metrics(agent, path: path).write()
        let r = Child(["/usr/bin/python3", "-c", """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for sample in family.samples:
                    print(sample.name, int(sample.value))
            """, path], mergeStderr: true).wait()
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.lines.contains("fanfilter_events_total 1"), r.output)
        XCTAssertTrue(r.lines.contains("fanfilter_allowed_total 1"), r.output)
        XCTAssertTrue(r.lines.contains("fanfilter_decision_latency_seconds_count 1"), "a histogram to the parser: \(r.output)")
        stop(agent)
    }

    func testAWriteThatFailsIsReported() throws {
        let agent = try startAgent("watch = $ROOT\nallow all : all")
        let reports = Reports()
        let file = metrics(agent, path: sandbox.root + "/no-such-folder/fanfilter.prom", reports: reports)
        for _ in 0..<3 { file.write() }
        let said = reports.said.withLock { $0 }
        XCTAssertEqual(said.count, 2, "the 1st and 2nd failure, not the 3rd: \(said)")
        XCTAssertTrue(said.first?.hasPrefix("cannot write the metrics file \(sandbox.root)/no-such-folder/fanfilter.prom: open ") ?? false, "\(said)")
        stop(agent)
    }
}
