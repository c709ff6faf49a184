import Dispatch
import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// The modes that never deny, on the real kernel: observe mode's notification
/// group cannot hold an open. (Each attribute, decision and reload is tested
/// on the scripted kernel: ScriptedPolicyTests, ScriptedAgentTests.)
final class PolicyKernelTests: KernelTestCase {
    func testPermissiveAndObserveModesNeverDeny() throws {
        let secret = sandbox.file("secret")
        let program = sandbox.executable("prog", from: "/bin/true")
        for mode in ["permissive", "observe"] {
            let agent = try startAgent("""
            watch = $ROOT
            mode = \(mode)
            deny_log perm=any all : all
            """)
            XCTAssertEqual(openFromChild([secret]), ["ok"], mode)
            XCTAssertEqual(Child([Array(openerPath.utf8), Array("exec".utf8), program]).wait().status, 0, mode)
            // Observe mode's notifications arrive after the open: wait for them, boundedly.
            XCTAssertTrue(eventually { agent.counters[.wouldDeny] >= 2 }, mode)
            stop(agent)
            XCTAssertGreaterThanOrEqual(agent.counters[.wouldDeny], 2, mode)
            XCTAssertEqual(agent.counters[.denied], 0, mode)
        }
    }
}

/// Regression: a file deeper than PATH_MAX has no path the kernel will give,
/// and "an unknown fact matches no test" turned every `dir=` deny into an allow.
final class UnknownPathTests: KernelTestCase {
    /// `deny/` + 24 folders of 200 bytes: a binary and a file about 4,900 bytes deep.
    func makeDeepTree() -> String {
        var relative = "deny"
        let root = open(sandbox.root, O_RDONLY | O_DIRECTORY)
        var dir = root
        for name in ["deny"] + (0..<24).map({ String(repeating: Character(String($0 % 10)), count: 200) }) {
            mkdirat(dir, name, 0o755)
            let next = openat(dir, name, O_RDONLY | O_DIRECTORY)
            if dir != root { close(dir) }
            dir = next
            if name != "deny" { relative += "/" + name }
        }
        let source = open("/bin/true", O_RDONLY)
        let target = openat(dir, "true", O_WRONLY | O_CREAT, 0o755)
        var st = stat()
        fstat(source, &st)
        sendfile(target, source, nil, Int(st.st_size))
        close(source)
        close(target)
        close(openat(dir, "data", O_WRONLY | O_CREAT, 0o644))
        close(dir)
        close(root)
        XCTAssertGreaterThan(sandbox.root.utf8.count + relative.utf8.count, Int(PATH_MAX))
        return sandbox.root + "/" + relative
    }

    func run(_ dir: String, _ command: [String]) -> Child.Result {
        Child([openerPath, "chdir", dir] + command, mergeStderr: true).wait()
    }

    func testAPathLongerThanPATHMAXIsDeniedExecutionByDefaultAndLogged() throws {
        let dir = makeDeepTree()
        let log = LogCapture()
        let agent = try startAgent("watch = $ROOT\ndeny perm=any all : dir=$ROOT/deny/", logger: log.logger)
        XCTAssertEqual(run(dir, ["exec", "./true"]).output, "EPERM\n", "on_unknown_path_execute = deny")
        XCTAssertEqual(run(dir, ["open", "data"]).output, "ok\n", "on_unknown_path = allow")
        let entry = try XCTUnwrap(log.wait { $0.message.hasPrefix("deny execute (unknown path)") }, "\(log.all.map(\.message))")
        XCTAssertTrue(entry.message.hasSuffix("setting=on_unknown_path_execute (the kernel gave no path the agent can use)"), entry.message)
        XCTAssertEqual(entry.metadata["MESSAGE_ID"]?.description, "8d1f0c2a5b7e4c39a6e2f4d1c0b9a873")
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("allow open (unknown path)") }, "an allowed unknown path is logged too")
        stop(agent)
    }

    func testOnUnknownPathSettingsDecideAndAPolicyWithoutPathRulesDecidesByItsRules() throws {
        let dir = makeDeepTree()
        var agent = try startAgent("watch = $ROOT\non_unknown_path = deny\ndeny perm=open all : dir=$ROOT/elsewhere/")
        XCTAssertEqual(run(dir, ["open", "data"]).output, "EPERM\n")
        stop(agent)
        // An execution is an execute event, then an open event of the same file.
        agent = try startAgent("watch = $ROOT\non_unknown_path_execute = allow\ndeny perm=any all : dir=$ROOT/elsewhere/")
        XCTAssertEqual(run(dir, ["exec", "./true"]).status, 0, "on_unknown_path_execute = allow")
        stop(agent)
        agent = try startAgent("watch = $ROOT\ndeny perm=open uid=1000 : all")
        XCTAssertEqual(run(dir, ["open", "data"]).output, "ok\n", "no rule tests the path: the rules decide")
        XCTAssertEqual(run(dir, ["exec", "./true"]).status, 0)
        stop(agent)
    }
}

/// Regression: as an unprivileged user, a bind mount in a namespace of one's
/// own put a denied folder under another name, and its binaries ran. A file
/// opened through a mount outside the agent's (and PID 1's) namespace is
/// decided by its path in the agent's own view.
final class MountAliasTests: KernelTestCase {
    func testABindMountInAUsersOwnNamespaceDoesNotStepAroundADirRule() throws {
        let binary = sandbox.executable("tmp/true", from: "/bin/true")
        let secret = sandbox.file("tmp/secret")
        sandbox.file("home/m/placeholder")
        let allowed = sandbox.executable("home/m/ok", from: "/bin/true")
        let log = LogCapture()
        let agent = try startAgent("watch = $ROOT\ndeny_log perm=any all : dir=$ROOT/tmp/", logger: log.logger)
        let root = sandbox.root
        func asUserWithAlias(_ command: String) -> Child.Result {
            Child(asUser1000 + ["/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
                                "mount --bind \(root)/tmp \(root)/home/m && \(command)"], mergeStderr: true).wait()
        }
        XCTAssertEqual(asUserWithAlias("exec \(openerPath) exec \(root)/home/m/true").output, "EPERM\n")
        XCTAssertEqual(asUserWithAlias("exec \(openerPath) open \(root)/home/m/secret").output, "EPERM\n")
        // The alias hides the folder's own files: what was there is still decided by its own path.
        XCTAssertEqual(Child(asUser1000 + ["/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
                                           "mount --bind \(root)/home/m \(root)/tmp && exec \(openerPath) exec \(root)/tmp/ok"],
                             mergeStderr: true).wait().status, 0, "a file outside the denied folder runs, whatever it is mounted as")
        let entry = try XCTUnwrap(log.wait { $0.message.hasPrefix("deny execute \(printable(binary)) (opened as \(root)/home/m/true)") },
                                  "\(log.all.map(\.message))")
        XCTAssertEqual(entry.metadata["FANFILTER_OPENED_AS"]?.description, "\(root)/home/m/true")
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("deny open \(printable(secret)) (opened as \(root)/home/m/secret)") })
        _ = allowed
        stop(agent)
    }

    /// The same alias made visible to the executable's path: a user's own
    /// binary bind-mounted over an allowed program's path is not that program.
    func testAnExecutableShownUnderAnotherNameIsNotThatProgram() throws {
        let data = sandbox.file("data/payroll")
        sandbox.executable("bin/trusted-opener", from: openerPath)
        sandbox.executable("home/u/opener", from: openerPath)
        let root = sandbox.root
        let agent = try startAgent("""
        watch = $ROOT
        allow perm=open exe=$ROOT/bin/trusted-opener : dir=$ROOT/data/
        deny perm=open all : dir=$ROOT/data/
        """)
        XCTAssertEqual(Child(asUser1000 + ["\(root)/bin/trusted-opener", "open", printable(data)]).wait().output, "ok\n")
        let r = Child(asUser1000 + ["/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
                                    "mount --bind \(root)/home/u/opener \(root)/bin/trusted-opener && exec \(root)/bin/trusted-opener open \(printable(data))"],
                      mergeStderr: true).wait()
        XCTAssertEqual(r.output, "EPERM\n", "exe is the binary's own path, not the alias")
        stop(agent)
    }
}

/// What fanotify cannot see: the kernel raises no permission event for opens
/// of FIFOs, sockets and device nodes (checked here on the running kernel),
/// so a rule cannot deny them; `fanfilter check` warns of such files.
final class SpecialFileTests: KernelTestCase {
    func testOpensOfFIFOsAndDeviceNodesRaiseNoEvent() throws {
        let fifo = sandbox.path("deny/fifo")
        let device = sandbox.path("deny/null")
        sandbox.file("deny/placeholder")
        XCTAssertEqual(mkfifo(cString(fifo), 0o666), 0)
        XCTAssertEqual(mknod(cString(device), S_IFCHR | 0o666, dev_t(1 << 8 | 3)), 0)
        let agent = try startAgent("watch = $ROOT\ncache = off\ndeny perm=open all : dir=$ROOT/deny/")
        // A FIFO opened for reading and writing never waits for a peer.
        let r = Child(["/bin/sh", "-c", "exec 3<>'\(printable(fifo))' && echo fifo-opened; : < '\(printable(device))' && echo device-opened"],
                      mergeStderr: true).wait()
        XCTAssertEqual(r.output, "fifo-opened\ndevice-opened\n", "the kernel asked the agent nothing")
        XCTAssertEqual(openFromChild([sandbox.path("deny/placeholder")]), ["EPERM"], "a regular file beside them is denied")
        XCTAssertEqual(agent.counters[.events], 1, "only the regular file raised an event")
        stop(agent)
    }
}

/// Regression: `/lib64/ld-linux-x86-64.so.2 /tmp/x` ran a program the policy
/// forbids from /tmp: the kernel reports only an open of it. The shipped
/// default policy's rules, pointed at the sandbox, stop that.
final class RuntimeLinkerTests: KernelTestCase {
    func testTheDefaultPolicyStopsTheRuntimeLinkerRunningAProgramFromScratch() throws {
        let shipped = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../systemd/fanfilter.policy").standardized.path, encoding: .utf8)
        let text = shipped.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("watch") }.joined(separator: "\n")
            .replacingOccurrences(of: "%scratch=/tmp/,/var/tmp/,/dev/shm/", with: "%scratch=$ROOT/tmp/")
        XCTAssertNotEqual(text, shipped)
        sandbox.executable("tmp/true", from: "/bin/true")
        sandbox.executable("elsewhere/true", from: "/bin/true")
        let agent = try startAgent("watch = $ROOT\n" + text)
        let loader = "/lib64/ld-linux-x86-64.so.2"
        guard access(loader, X_OK) == 0 else { throw XCTSkip("no \(loader) on this machine") }
        XCTAssertNotEqual(Child([loader, sandbox.root + "/tmp/true"], mergeStderr: true).wait().status, 0,
                          "the loader may not open a program in scratch space")
        XCTAssertEqual(Child([loader, sandbox.root + "/elsewhere/true"], mergeStderr: true).wait().status, 0,
                       "elsewhere it runs")
        XCTAssertEqual(Child([openerPath, "exec", sandbox.root + "/tmp/true"]).wait().output, "EPERM\n")
        stop(agent)
    }
}

/// Regression: the stat of a process's executable went to the server of the
/// executable's filesystem. A user's own FUSE daemon that never answers held
/// the thread deciding that user's open: the event reader itself, which
/// decides events in turn, so every open after it waited for ever. The
/// executable is now stat'ed from what the kernel has cached.
final class StalledServerTests: KernelTestCase {
    func testAFUSEServerThatNeverAnswersHoldsNoDecision() throws {
        let root = sandbox.root
        sandbox.executable("source/sh", from: "/bin/sh")
        let data = sandbox.file("data")
        let (flag, stopServer) = try startStallingServer(stalling: "getattr", mountedOnce: "")
        defer { stopServer() }
        let agent = try startAgent("watch = $ROOT\ndeny perm=open exe=/nonexistent : path=$ROOT/data")
        // The shell runs from the FUSE mount; it opens the file once its cached attributes
        // have expired (libfuse keeps them a second), while the server holds every getattr.
        let shell = Child([root + "/fuse/sh", "-c", "sleep 1.5; exec 3< '\(root)/data' && echo opened"], mergeStderr: true)
        XCTAssertEqual(creat(flag, 0o644) >= 0, true)
        let r = shell.wait(timeout: .seconds(10))
        XCTAssertFalse(r.hung, "the open of a process whose executable's server stalls was answered")
        XCTAssertEqual(r.output, "opened\n")
        XCTAssertEqual(openFromChild([data], timeout: .seconds(5)), ["ok"], "and the next open of anyone is decided too")
        XCTAssertEqual(agent.counters[.timedOut], 0, "decided by the rules, not allowed by a timeout")
        stop(agent)
    }
}

/// A user's FUSE file whose server never answers a read: its type is not
/// read (an ftype test does not match it), so no worker waits on it and no
/// event is answered by a timeout.
final class StalledReadTests: KernelTestCase {
    func testTheTypeOfAFUSEFileIsNotRead() throws {
        let root = sandbox.root
        sandbox.file("source/data", contents: Array("plain text\n".utf8))
        let (flag, stopServer) = try startStallingServer(stalling: "read", mountedOnce: "/data")
        defer { stopServer() }
        XCTAssertEqual(creat(flag, 0o644) >= 0, true)
        let agent = try startAgent("watch_mount = $ROOT/fuse\nworkers = 1\ndeny perm=open all : ftype=text/plain")
        for _ in 0..<3 {
            XCTAssertEqual(openFromChild([Array((root + "/fuse/data").utf8)], timeout: .seconds(5)), ["ok"])
        }
        XCTAssertEqual(agent.counters[.timedOut], 0, "no worker waited on the server")
        XCTAssertEqual(agent.counters[.filesTyped], 0)
        stop(agent)
    }
}

extension KernelTestCase {
    /// Serves the sandbox's `source` folder at `fuse` through
    /// Tests/Fixtures/stall-fuse.py, which holds every `stalling` request
    /// (getattr or read) while the returned flag file exists, and waits until
    /// `fuse` + `mountedOnce` is on the new filesystem. The closure unmounts
    /// it and stops the server.
    func startStallingServer(stalling: String, mountedOnce: String) throws -> (flag: String, stop: () -> Void) {
        guard access("/usr/lib/python3/dist-packages/fusepy.py", R_OK) == 0, access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw XCTSkip("needs python3-fusepy and /dev/fuse")
        }
        let root = sandbox.root
        XCTAssertEqual(mkdir(cString(sandbox.path("fuse")), 0o755), 0)
        let flag = root + "/stall"
        let fixture = testsFolder + "/Fixtures/stall-fuse.py"
        let server = Child(["/usr/bin/python3", fixture, root + "/source", root + "/fuse", flag, stalling], mergeStderr: true)
        var sandboxStat = stat()
        stat(root, &sandboxStat)
        XCTAssertTrue(eventually {
            var st = stat()
            return stat(root + "/fuse" + mountedOnce, &st) == 0 && st.st_dev != sandboxStat.st_dev
        }, "the FUSE filesystem is mounted")
        return (flag, {
            unlink(flag)
            umount2(root + "/fuse", Int32(MNT_DETACH))
            kill(server.pid, SIGKILL)
            _ = server.wait(timeout: .seconds(10))
        })
    }
}
