import Dispatch
import FanFilter
import Foundation
import Glibc
import Policy
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
