import Foundation
import Glibc
import TestSupport
import XCTest

/// `_audit` decisions reach the kernel's audit log: Debian's auditd runs for
/// the test with a configuration and log of its own, and ausearch reads the
/// FANOTIFY records back. From Linux 6.3 the record names the rule that
/// decided (fan_type=1, fan_info=the rule number in hexadecimal); before, it
/// is plain. auditd is machine-wide, so the test runs only where
/// FANFILTER_TEST_AUDITD=1: make test's virtual machines set it.
final class AuditRecordTests: KernelTestCase {
    func testAuditDecisionsAreKernelAuditRecordsThatNameTheirRule() throws {
        guard ProcessInfo.processInfo.environment["FANFILTER_TEST_AUDITD"] == "1" else {
            throw XCTSkip("starts auditd, which is machine-wide: make test runs it in its virtual machines (FANFILTER_TEST_AUDITD=1)")
        }
        let audit = try AuditDaemon()
        defer { audit.stop() }
        let secret = sandbox.file("data/secret")
        let audited = sandbox.file("data/audited")
        let plain = sandbox.file("data/plain")
        let agent = try startAgent("""
        watch = $ROOT
        cache = off
        deny_audit perm=open all : path=$ROOT/data/secret
        allow_audit perm=open all : path=$ROOT/data/audited
        """)
        XCTAssertTrue(agent.features.audit)
        XCTAssertEqual(openFromChild([secret, audited, plain]), ["EPERM", "ok", "ok"])
        stop(agent)

        var records: [String] = []
        XCTAssertTrue(eventually {
            records = audit.records(ofType: "FANOTIFY")
            return records.count >= 2
        }, "ausearch finds the two audited decisions:\n\(audit.search(ofType: "FANOTIFY"))")
        XCTAssertEqual(records.count, 2, "one record per _audit answer, none for the plain open: \(records)")
        let denied = records.first { $0.contains(" resp=2") }, allowed = records.first { $0.contains(" resp=1") }
        XCTAssertNotNil(denied, "a deny record: \(records)")
        XCTAssertNotNil(allowed, "an allow record: \(records)")
        XCTAssertTrue(audit.search(ofType: "FANOTIFY").contains("exe=\"\(openerPath)\""), "the records are the opener's")
        if kernelVersion() >= (6, 3) {
            // Rules 1 and 2 of the policy (watch is a setting, not a rule).
            XCTAssertEqual(denied.flatMap { field("fan_type", in: $0) }, "1", "a rule record: \(records)")
            XCTAssertEqual(denied.flatMap { field("fan_info", in: $0) }, "1", "the deny rule's number")
            XCTAssertEqual(allowed.flatMap { field("fan_info", in: $0) }, "2", "the allow rule's number")
        } else {
            XCTAssertFalse(records.contains { $0.contains("fan_info") }, "before 6.3 the records are plain: \(records)")
        }
    }

    private func field(_ name: String, in record: String) -> String? {
        record.split(separator: " ").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}
