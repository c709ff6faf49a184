import Dispatch
import FanFilter
import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// The policy language against the real kernel: each attribute and decision,
/// reload under load, and the modes that never deny.
final class PolicyKernelTests: KernelTestCase {
    func testSubjectAttributes() throws {
        let files = ["gid", "ppid", "exedir", "commglob", "auid", "session"].map { sandbox.file($0) }
        let openerDir = (openerPath as NSString).deletingLastPathComponent + "/"
        let loginuid = try String(contentsOfFile: "/proc/self/loginuid", encoding: .utf8)
        let session = try String(contentsOfFile: "/proc/self/sessionid", encoding: .utf8)
        let agent = try startAgent("""
        watch = $ROOT
        deny gid=1000 : path=$ROOT/gid
        deny ppid=\(getpid()) : path=$ROOT/ppid
        deny exe_dir=\(openerDir) : path=$ROOT/exedir
        deny comm=glob:fanfilter-test* : path=$ROOT/commglob
        deny auid=\(loginuid) : path=$ROOT/auid
        deny sessionid=\(session) : path=$ROOT/session
        """)
        XCTAssertEqual(openFromChild([files[0]]), ["ok"])
        XCTAssertEqual(openFromChild([files[0]], prefix: ["/usr/bin/setpriv", "--regid=1000", "--clear-groups"]), ["EPERM"])
        XCTAssertEqual(openFromChild([files[1]]), ["EPERM"], "the opener's parent is this process")
        let viaShell = Child(["/bin/sh", "-c", "\(openerPath) open \(String(decoding: files[1], as: UTF8.self)); true"]).wait()
        XCTAssertEqual(viaShell.lines, ["ok"], "a grandchild has another parent")
        XCTAssertEqual(openFromChild(Array(files[2...5])), ["EPERM", "EPERM", "EPERM", "EPERM"])
        let cat = Child(["/bin/cat", String(decoding: files[3], as: UTF8.self)]).wait()
        XCTAssertEqual(cat.status, 0, "comm cat is not fanfilter-test*")
        stop(agent)
    }

    func testObjectAttributes() throws {
        let big = sandbox.file("big", contents: [UInt8](repeating: 1, count: 5000))
        let small = sandbox.file("small", contents: [1])
        let hashed = sandbox.file("other/hashed", contents: Array("data\n".utf8))
        let globbed = sandbox.file("deep/a/b/run.sh", contents: Array("#!/bin/sh\n".utf8))
        let plain = sandbox.file("deep/a/b/run.txt", contents: Array("text\n".utf8))
        let agent = try startAgent("""
        watch = $ROOT
        deny all : size>4K path=$ROOT/big,$ROOT/small
        deny all : sha256hash=6667b2d1aab6a00caa5aee5af8ad9f1465e567abf1c209d15727d57b3e8f6e5f
        deny all : path=glob:$ROOT/deep/**/*.sh fstype=tmpfs device=tmpfs
        """)
        XCTAssertEqual(openFromChild([big, small, hashed, globbed, plain]), ["EPERM", "ok", "EPERM", "EPERM", "ok"])
        // A modified file is hashed afresh.
        sandbox.file("other/hashed", contents: Array("changed\n".utf8))
        XCTAssertEqual(openFromChild([hashed]), ["ok"])
        stop(agent)
    }

    func testAuditAskAndDefaultDecisions() throws {
        let files = ["audit-deny", "audit-allow", "ask", "none"].map { sandbox.file($0) }
        let agent = try startAgent("""
        watch = $ROOT
        default = deny
        on_no_client = deny
        deny_audit all : path=$ROOT/audit-deny
        allow_audit all : path=$ROOT/audit-allow
        ask all : path=$ROOT/ask
        allow all : path=$ROOT
        """)
        XCTAssertTrue(agent.features.audit, "this kernel gives FAN_ENABLE_AUDIT to root")
        XCTAssertEqual(openFromChild(files), ["EPERM", "ok", "EPERM", "EPERM"])
        stop(agent)
    }

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
            for _ in 0..<200 where agent.counters[.wouldDeny] < 2 { usleep(10_000) }
            stop(agent)
            XCTAssertGreaterThanOrEqual(agent.counters[.wouldDeny], 2, mode)
            XCTAssertEqual(agent.counters[.denied], 0, mode)
        }
    }

    func testReloadSwitchesModesAndMarks() throws {
        let other = try Sandbox()
        defer { other.remove() }
        let here = sandbox.file("secret")
        let there = other.file("secret")
        let agent = try startAgent("watch = $ROOT\ndeny all : all")
        XCTAssertEqual(openFromChild([here, there]), ["EPERM", "ok"])

        let notes = try agent.reload(try policy("watch = \(other.root)\nworkers = 9\ndeny all : all", in: sandbox))
        XCTAssertEqual(notes, ["workers changed: it takes effect on restart"])
        XCTAssertEqual(openFromChild([here, there]), ["ok", "EPERM"], "marks follow watch")

        _ = try agent.reload(try policy("watch = \(other.root)\nmode = observe\ndeny all : all", in: sandbox))
        XCTAssertEqual(openFromChild([there]), ["ok"], "observe never denies")
        XCTAssertEqual(agent.watched.map { String(decoding: $0.path, as: UTF8.self) }, [other.root])

        _ = try agent.reload(try policy("watch = \(other.root)\ndeny all : all", in: sandbox))
        XCTAssertEqual(openFromChild([there]), ["EPERM"], "back to enforce on a permission group")

        XCTAssertThrowsError(try agent.reload(try policy("watch = \(other.root)/missing\nallow all : all", in: sandbox)))
        XCTAssertEqual(openFromChild([there]), ["EPERM"], "a reload that fails keeps the running policy and marks")
        stop(agent)
        XCTAssertEqual(agent.counters[.reloads], 3)
    }

    func testReloadUnderLoadGivesEveryOpenAnAnswerFromOnePolicy() throws {
        let files = (0..<10).map { sandbox.file("flip/\($0)") }
        let allow = try policy("watch = $ROOT\nallow all : all", in: sandbox)
        let deny = try policy("watch = $ROOT\ndeny all : dir=$ROOT/flip/", in: sandbox)
        let agent = try Agent(policy: allow, logger: quietLogger())
        agent.start()
        let openers = (0..<3).map { _ in Child([Array(openerPath.utf8), Array("loop".utf8), Array("6000".utf8)] + files) }
        for i in 0..<40 {
            _ = try agent.reload(i % 2 == 0 ? deny : allow)
            usleep(10_000)
        }
        _ = try agent.reload(deny)
        for r in openers.map({ $0.wait(timeout: .seconds(120)) }) {
            XCTAssertFalse(r.hung)
            XCTAssertTrue(r.output.contains("other=0"), r.output)
        }
        XCTAssertEqual(openFromChild([files[0]]), ["EPERM"], "the last policy is in force")
        stop(agent)
        XCTAssertGreaterThan(agent.counters[.denied], 0)
        XCTAssertGreaterThan(agent.counters[.allowed], 0)
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
