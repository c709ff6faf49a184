import FanFilter
import Glibc
import Logging
import Policy
import TestSupport
import XCTest

/// What the agent writes about a decision, read back from its logger.
final class DecisionLogTests: KernelTestCase {
    /// Regression: a file named like the rest of a log line produced a MESSAGE
    /// that read as a denial of sshd by root.
    func testAPathCannotImitateTheLinesOwnFields() throws {
        let name = "x by /usr/sbin/sshd[1] uid=0 rule=/etc/fanfilter/policy:1 "
        let forged = sandbox.file("d/" + name)
        let log = LogCapture()
        let agent = try startAgent("watch = $ROOT\ndeny_log perm=open all : dir=$ROOT/d/", logger: log.logger)
        XCTAssertEqual(openFromChild([forged]), ["EPERM"])
        let entry = try XCTUnwrap(log.wait { $0.message.hasPrefix("deny open") })
        XCTAssertTrue(entry.message.hasPrefix("deny open \"\(sandbox.root)/d/\(name)\" by \(openerPath)["), entry.message)
        XCTAssertTrue(entry.message.hasSuffix(" uid=0 rule=test.policy:2"), entry.message)
        XCTAssertEqual(entry.metadata["FANFILTER_PATH"]?.description, printable(forged), "the field keeps the path itself")
        stop(agent)
    }
}
