import Glibc
import Policy
import TestSupport
import XCTest

/// `uid=` and `gid=` as fapolicyd 2.0 matches them, on the real kernel: a
/// process is every one of its real, effective and filesystem uids, and of
/// its gids and supplementary groups (issue 27, "fapolicyd's subject semantics").
final class SubjectCredentialTests: KernelTestCase {
    /// Regression: `uid=` was tested against the effective uid alone, so a
    /// user running a set-user-ID program escaped `deny uid=USER`, which
    /// fapolicyd enforces.
    func testASetUserIDProgramDoesNotEscapeADenyForItsUser() throws {
        let secret = sandbox.file("data/secret")
        let opener = sandbox.executable("bin/setuid-opener", from: openerPath)
        XCTAssertEqual(chown(printable(opener), 0, 0), 0)
        XCTAssertEqual(chmod(printable(opener), 0o4755), 0)
        let agent = try startAgent("""
        watch = $ROOT
        cache = off
        deny perm=open uid=1000 : path=$ROOT/data/secret
        """)
        XCTAssertEqual(Child(asUser1000 + [printable(opener), "open", printable(secret)]).wait().output, "EPERM\n",
                       "effective uid 0, real uid 1000: the deny for uid 1000 holds")
        XCTAssertEqual(Child([printable(opener), "open", printable(secret)]).wait().output, "ok\n", "root's own run")
        stop(agent)
    }

    /// Regression: `gid=` ignored supplementary groups, which fapolicyd counts.
    func testASupplementaryGroupCounts() throws {
        let secret = sandbox.file("data/secret")
        let agent = try startAgent("""
        watch = $ROOT
        cache = off
        deny perm=open gid=4242 : path=$ROOT/data/secret
        """)
        let inGroup = ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--groups=4242", openerPath, "open", printable(secret)]
        XCTAssertEqual(Child(inGroup).wait().output, "EPERM\n", "a member of group 4242 by its supplementary groups")
        XCTAssertEqual(Child(asUser1000 + [openerPath, "open", printable(secret)]).wait().output, "ok\n", "not a member")
        stop(agent)
    }
}
