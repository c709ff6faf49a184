import EventFacts
import Glibc
import Policy
import TestSupport
import TrustStore
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

    /// A program run from a memfd raises no execution event, and its
    /// executable is on no filesystem the agent knows: it counts as
    /// untrusted, so `deny … exe=untrusted` holds for its opens. Before, its
    /// executable was unknown and the deny's test failed: its opens passed.
    func testAProgramRunFromAMemfdCountsAsUntrusted() throws {
        guard MemfdExecution.setting() != 2 else { throw XCTSkip("vm.memfd_noexec = 2: memfds cannot be executed here") }
        let secret = sandbox.file("data/secret")
        let opener = sandbox.executable("bin/opener", from: openerPath)
        var st = stat()
        XCTAssertEqual(stat(printable(opener), &st), 0)
        try TrustDatabaseWriter.write([TrustEntry(path: opener, source: .file, size: UInt64(st.st_size), digest: .none)],
                                      to: printable(sandbox.path("trust.mdb")))
        let agent = try startAgent("""
        watch = $ROOT
        trust_db = $ROOT/trust.mdb
        deny perm=open exe=untrusted : dir=$ROOT/data/
        """)
        XCTAssertEqual(Child(asUser1000 + [printable(opener), "open", printable(secret)]).wait().output, "ok\n", "the listed program")
        let fileless = """
        import os, sys
        fd = os.memfd_create("opener", 0)
        os.write(fd, open(sys.argv[1], "rb").read())
        os.execve(f"/proc/self/fd/{fd}", ["opener", "open", sys.argv[2]], {})
        """
        let r = Child(asUser1000 + ["/usr/bin/python3", "-c", fileless, printable(opener), printable(secret)], mergeStderr: true)
            .wait(timeout: .seconds(20))
        XCTAssertEqual(r.output, "EPERM\n", "the same program from a memfd is untrusted")
        stop(agent)
    }

    /// `vm.memfd_noexec` is reported, and an allow-listing policy is warned
    /// while memfds can be executed.
    func testMemfdExecutionIsReportedAndWarnedOf() throws {
        let listing = try policy("allow perm=execute all : trust=1\ndeny perm=execute all : all", in: sandbox)
        let plain = try policy("deny perm=open all : dir=/srv/", in: sandbox)
        XCTAssertNotNil(MemfdExecution.warning(for: listing, setting: 0))
        XCTAssertNotNil(MemfdExecution.warning(for: listing, setting: nil), "a kernel without the setting is not safe")
        XCTAssertNil(MemfdExecution.warning(for: listing, setting: 2))
        XCTAssertNil(MemfdExecution.warning(for: plain, setting: 0), "no rule for executions by trust or digest")
        XCTAssertEqual(MemfdExecution.diagnostic(for: listing, setting: 1)?.location.line, 1)
        XCTAssertEqual(MemfdExecution.summary(setting: 2), "memfd-noexec=2")
        XCTAssertEqual(MemfdExecution.summary(setting: nil), "memfd-noexec=unknown")
        // vm.memfd_noexec came with 6.3; Debian 11's and 12's kernels have no backport of it.
        if kernelVersion() >= (6, 3) {
            XCTAssertEqual(MemfdExecution.setting().map { $0 >= 0 && $0 <= 2 }, true, "this kernel (6.3+) has it")
        } else {
            XCTAssertNil(MemfdExecution.setting(), "a kernel before 6.3 has no vm.memfd_noexec")
        }
    }

    /// Regression: `pattern=ld_preload` reads /proc/PID/environ, which the
    /// kernel reads from the process's anonymous memory only (since 4.18, so
    /// a FUSE server cannot stall it). A process that mapped a file over its
    /// environment after its loader had used LD_PRELOAD read as having none,
    /// and its opens passed `deny pattern=ld_preload`. An environment that
    /// reads short is now not known: the deny holds. The read also runs on a
    /// thread of its own, waited for 50 ms (`StallableReadTests`).
    func testAnEnvironmentHiddenBehindAFileMappingIsNotKnown() throws {
        let cover = sandbox.file("cover", contents: [UInt8](repeating: 0x41, count: 256 * 1024))
        let opener = sandbox.executable("bin/opener", from: openerPath)
        let secret = sandbox.file("data/secret")
        let agent = try startAgent("""
        watch = $ROOT
        cache = off
        deny perm=open pattern=ld_preload : dir=$ROOT/data/
        """)
        let padding = "PADDING=" + String(repeating: "x", count: 20_000)
        // LD_PRELOAD after the padding: in what the file hides, past the first page the kernel still reads.
        let hidden = Child(asUser1000 + ["/usr/bin/env", padding, "LD_PRELOAD=/nonexistent/preload.so", printable(opener),
                                         "environ-from", printable(cover), printable(secret)]).wait(timeout: .seconds(20))
        XCTAssertEqual(hidden.output, "EPERM\n", "an environment that reads short is not known: the deny holds")
        let plain = Child(asUser1000 + [printable(opener), "open", printable(secret)]).wait(timeout: .seconds(20))
        XCTAssertEqual(plain.output, "ok\n", "an environment read whole, with no LD_PRELOAD")
        let preloaded = Child(["/usr/bin/env", "LD_PRELOAD=/nonexistent/preload.so", printable(opener), "open", printable(secret)])
            .wait(timeout: .seconds(20))
        XCTAssertEqual(preloaded.output, "EPERM\n")
        stop(agent)
    }
}
