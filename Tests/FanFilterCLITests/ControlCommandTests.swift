import Foundation
import Glibc
import TestSupport
import XCTest

/// `fanfilter status`, `reload`, `clients`, `set-mode` and `flush` against a
/// running agent, through its socket, as root; and a user who is not let in.
final class ControlCommandTests: XCTestCase {
    var sandbox: Sandbox!
    var agent: Child!
    var socket: String { sandbox.root + "/port" }
    /// Denied by the policy the agent starts with (made before it starts: its creation would be denied).
    var secret: [UInt8] = []

    override func setUpWithError() throws {
        sandbox = try Sandbox()
        secret = sandbox.file("secret")
        write("deny all : path=\(sandbox.root)/secret\n")
        agent = Child([fanfilterPath, "run", "--policy", sandbox.root + "/policy"], mergeStderr: true)
        XCTAssertTrue(agent.waitForOutput(containing: "started: "), "the agent started")
    }

    override func tearDown() {
        if let agent {
            kill(agent.pid, SIGTERM)
            let r = agent.wait(timeout: .seconds(10))
            XCTAssertEqual(r.status, 0, r.output)
        }
        sandbox?.remove()
    }

    func write(_ rules: String) {
        sandbox.file("policy", contents: Array("watch = \(sandbox.root)\nport_socket = \(sandbox.root)/port\n\(rules)".utf8))
    }

    func cli(_ arguments: [String], prefix: [String] = []) -> Child.Result {
        Child(prefix + [fanfilterPath] + arguments + ["--socket", socket], mergeStderr: true).wait(timeout: .seconds(20))
    }

    func testStatusShowsThePolicyItsHashAndTheCounters() throws {
        XCTAssertEqual(openFromChild([secret]), ["EPERM"])
        let text = cli(["status"])
        XCTAssertEqual(text.status, 0, text.output)
        let policy = try Data(contentsOf: URL(fileURLWithPath: sandbox.root + "/policy"))
        let sha = Child(["/usr/bin/sha256sum", sandbox.root + "/policy"]).wait().output.prefix(64)
        XCTAssertFalse(policy.isEmpty)
        XCTAssertTrue(text.output.contains("policy: \(sandbox.root)/policy\n"), text.output)
        XCTAssertTrue(text.output.contains("policy_sha256: \(sha)\n"), text.output)
        XCTAssertTrue(text.output.contains("mode: enforce"), text.output)
        let json = cli(["status", "--json"])
        XCTAssertEqual(json.status, 0, json.output)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], json.output)
        XCTAssertEqual(object["rules"] as? Int, 1)
        let counters = try XCTUnwrap(object["counters"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(counters["denied"] as? Int ?? 0, 1)
        XCTAssertNotNil(object["clients"] as? [Any])
    }

    /// `trust add` of a file the policy denies it: the agent reads the file as its own process.
    func testTrustAddOfADeniedFileIsMeasuredByTheAgent() throws {
        XCTAssertEqual(openFromChild([secret]), ["EPERM"], "the policy denies the file to everyone but the agent")
        let dir = sandbox.root + "/trust-cli"
        mkdir(dir, 0o755)
        let files = ["--trust-file", dir + "/trust", "--trust-folder", dir + "/trust.d", "--dpkg-info", dir, "--rpm", "none"]
        let policy = dir + "/p"
        try "trust_db = \(dir)/trust.mdb\n".write(toFile: policy, atomically: false, encoding: .utf8)
        let path = sandbox.root + "/secret"
        let r = cli(["trust", "add", path, "--policy", policy] + files)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.hasPrefix("added: \(path) 5 6667b2d1aab6a00caa5aee5af8ad9f1465e567abf1c209d15727d57b3e8f6e5f\n"), r.output)
        // A policy that reads trust: status names its database and size.
        XCTAssertFalse(cli(["status"]).output.contains("trust_db"), "no rule reads trust")
        write("trust_db = \(dir)/trust.mdb\ndeny all : path=\(sandbox.root)/secret trust=1\n")
        XCTAssertEqual(cli(["reload"]).status, 0)
        let status = cli(["status"]).output
        XCTAssertTrue(status.contains("trust_db: \(dir)/trust.mdb\ntrust_db_files: 1\n"), status)
        let measured = cli(["trust", "add", sandbox.root + "/nonexistent", "--policy", policy] + files)
        XCTAssertEqual(measured.status, 1)
        XCTAssertTrue(measured.output.contains("cannot read it as a regular file"), measured.output)
    }

    func testMetricsPrintsThePrometheusTextOnce() {
        XCTAssertEqual(openFromChild([secret]), ["EPERM"])
        let r = cli(["metrics"])
        XCTAssertEqual(r.status, 0, r.output)
        let lines = r.output.split(separator: "\n")
        XCTAssertTrue(lines.contains("fanfilter_denied_total 1"), r.output)
        XCTAssertTrue(lines.contains { $0.hasPrefix("fanfilter_rule_hits_total{") && $0.hasSuffix(" 1") }, r.output)
        XCTAssertTrue(lines.contains("# TYPE fanfilter_events_in_flight gauge"), r.output)
    }

    func testReloadWaitsForTheOutcomeAndPrintsTheErrorsWithTheirLocation() {
        write("mode = lax\n")
        let rejected = cli(["reload"])
        XCTAssertEqual(rejected.status, 1, rejected.output)
        XCTAssertTrue(rejected.output.contains("\(sandbox.root)/policy:3:8: error: unknown mode 'lax'"), rejected.output)
        write("allow all : all\n")
        let loaded = cli(["reload"])
        XCTAssertEqual(loaded.status, 0, loaded.output)
        XCTAssertTrue(loaded.output.hasPrefix("policy loaded"), loaded.output)
        XCTAssertEqual(openFromChild([secret]), ["ok"], "the new policy is in force")
    }

    func testSetModeHoldsOverReloadsAndFlushAnswers() {
        let permissive = cli(["set-mode", "permissive"])
        XCTAssertEqual(permissive.status, 0, permissive.output)
        XCTAssertEqual(openFromChild([secret]), ["ok"], "permissive mode allows")
        XCTAssertEqual(cli(["reload"]).status, 0)
        XCTAssertEqual(openFromChild([secret]), ["ok"], "a reload keeps the mode set")
        XCTAssertTrue(cli(["status"]).output.contains("mode: permissive"))
        let bad = cli(["set-mode", "lenient"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.output.contains("unknown mode 'lenient'"), bad.output)
        XCTAssertEqual(cli(["set-mode", "enforce"]).status, 0)
        XCTAssertEqual(openFromChild([secret]), ["EPERM"])
        let flushed = cli(["flush"])
        XCTAssertEqual(flushed.status, 0, flushed.output)
        XCTAssertEqual(flushed.output, "caches flushed\n")
    }

    func testMonitorPrintsEachDecisionAsItIsMade() throws {
        let plain = sandbox.root + "/plain"
        let all = Child([fanfilterPath, "monitor", "--socket", socket], mergeStderr: true)
        let denials = Child([fanfilterPath, "monitor", "--json", "--denied-only", "--socket", socket], mergeStderr: true)
        XCTAssertTrue(eventually { self.cli(["clients"]).output.components(separatedBy: "name: fanfilter-monitor").count == 3 },
                      "both monitors connected")
        XCTAssertEqual(openFromChild([Array(plain.utf8)]), ["ENOENT"], "a file that is not there: no event")
        _ = sandbox.file("plain")
        XCTAssertEqual(openFromChild([Array(plain.utf8), secret]), ["ok", "EPERM"])
        let secretPath = String(decoding: secret, as: UTF8.self)
        XCTAssertTrue(all.waitForOutput(containing: "deny open \(secretPath) pid="), "the plain monitor's line")
        XCTAssertTrue(denials.waitForOutput(containing: "\"verdict\": \"deny\""), "the JSON monitor's line")
        for m in [all, denials] { kill(m.pid, SIGTERM) }
        let plainLines = all.wait().lines.filter { !$0.contains("/policy") }
        XCTAssertTrue(plainLines.contains { $0.hasPrefix("allow open \(plain) pid=") && $0.hasSuffix("by=default") }, "\(plainLines)")
        XCTAssertTrue(plainLines.contains { $0.hasPrefix("deny open \(secretPath) pid=") && $0.hasSuffix("by=rule 1") }, "\(plainLines)")
        let jsonLines = denials.wait().lines
        XCTAssertEqual(jsonLines.count, 1, "denied only: \(jsonLines)")
        guard jsonLines.count == 1 else { return }
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(jsonLines[0].utf8)) as? [String: Any])
        XCTAssertEqual(object["path"] as? String, secretPath)
        XCTAssertEqual(object["by"] as? String, "rule 1")
        XCTAssertEqual(object["enforced"] as? Bool, true)
    }

    func testAUserWhoIsNotRootIsNotLetIn() {
        let r = cli(["status"], prefix: ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("cannot reach the agent at \(socket)"), r.output)
        XCTAssertTrue(r.output.contains("Permission denied"), r.output)
        let clients = cli(["clients"])
        XCTAssertEqual(clients.output, "no clients connected\n", "the refused user left no client behind")
    }

    func testNoAgentListeningIsOneClearLine() {
        let r = Child([fanfilterPath, "status", "--socket", sandbox.root + "/nothing-here"], mergeStderr: true).wait()
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.output, "fanfilter: cannot reach the agent at \(sandbox.root)/nothing-here: connect to \(sandbox.root)/nothing-here: No such file or directory (errno 2)\n")
    }
}
