import FanFilter
import Glibc
import Policy
import TestSupport
import XCTest

/// A process that hides a fact of its own must not get past a rule that
/// tests it (issue 27, "Subjects that hide"): the agent learns the fact
/// elsewhere where it can, and a fact it cannot learn never escapes a deny.
final class HiddenSubjectTests: KernelTestCase {
    /// Regression: once its main thread had exited, a process's other
    /// threads opened files with /proc/PID/exe unreadable, so the agent
    /// knew no executable and `deny … exe!=…` (a test of an unknown fact
    /// failed) let them through. The executable is now read through a live
    /// thread's link.
    func testAnExitedMainThreadDoesNotHideTheExecutable() throws {
        let secret = sandbox.file("data/secret")
        let opener = sandbox.executable("bin/opener", from: openerPath)
        let agent = try startAgent("""
        watch = $ROOT
        cache = off
        deny perm=open exe!=/usr/bin/cat : path=$ROOT/data/secret
        deny perm=open exe!=$ROOT/bin/opener : path=$ROOT/data/other
        """)
        let other = sandbox.file("data/other")
        let r = Child(asUser1000 + [printable(opener), "hidden-open", printable(secret), printable(other)], mergeStderr: true)
            .wait(timeout: .seconds(20))
        XCTAssertFalse(r.hung)
        XCTAssertEqual(r.output, "EPERM\nok\n", "denied as not cat, allowed as the opener: its executable was known")
        stop(agent)
    }
}
