import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// The policy language through the agent, on the scripted kernel: each
/// subject and object attribute read from a real process and a real file,
/// the audit/ask/default decisions, byte-exact names, what the log line says
/// and which allows go to the kernel cache. No root; the kernel tests keep
/// what only the kernel shows (that an ignore mark really spares the opens).
final class ScriptedPolicyTests: ScriptedTestCase {
    /// A live process, a child of this one, running the test opener: its facts are known.
    /// `unprivileged`: not root (run as uid 1000 when this test runs as root).
    private func subject(unprivileged: Bool = false) -> Child {
        let child = Child((unprivileged && getuid() == 0 ? asUser1000 : []) + [openerPath, "pause"])
        XCTAssertTrue(child.waitForOutput(containing: "ready"))
        addTeardownBlock {
            kill(child.pid, SIGKILL)
            _ = child.wait()
        }
        return child
    }

    func testSubjectAttributes() throws {
        let names = ["uid", "other-uid", "gid", "ppid", "other-ppid", "exe", "exedir", "comm", "commglob", "other-comm", "auid", "session"]
        let files = Dictionary(uniqueKeysWithValues: names.map { ($0, sandbox.file($0)) })
        let openerDir = (openerPath as NSString).deletingLastPathComponent + "/"
        let loginuid = try String(contentsOfFile: "/proc/self/loginuid", encoding: .utf8)
        let session = try String(contentsOfFile: "/proc/self/sessionid", encoding: .utf8)
        let agent = try startAgent("""
        watch = $ROOT
        deny uid=\(getuid()) : path=$ROOT/uid
        deny uid=\(getuid() + 1) : path=$ROOT/other-uid
        deny gid=\(getgid()) : path=$ROOT/gid
        deny ppid=\(getpid()) : path=$ROOT/ppid
        deny ppid=1 : path=$ROOT/other-ppid
        deny exe=\(openerPath) : path=$ROOT/exe
        deny exe_dir=\(openerDir) : path=$ROOT/exedir
        deny comm=fanfilter-test- : path=$ROOT/comm
        deny comm=glob:fanfilter-test* : path=$ROOT/commglob
        deny comm=cat : path=$ROOT/other-comm
        deny auid=\(loginuid) : path=$ROOT/auid
        deny sessionid=\(session) : path=$ROOT/session
        """)
        let pid = subject().pid
        XCTAssertEqual(answers(names.map { files[$0]! }, pid: pid),
                       [.deny, .allow, .deny, .deny, .allow, .deny, .deny, .deny, .deny, .allow, .deny, .deny])
        stop(agent)
    }

    func testObjectAttributes() throws {
        let big = sandbox.file("big", contents: [UInt8](repeating: 1, count: 5000))
        let small = sandbox.file("small", contents: [1])
        let hashed = sandbox.file("other/hashed", contents: Array("data\n".utf8))
        let globbed = sandbox.file("deep/a/b/run.sh", contents: Array("#!/bin/sh\n".utf8))
        let plain = sandbox.file("deep/a/b/run.txt", contents: Array("text\n".utf8))
        let hashed512 = sandbox.file("other/hashed512", contents: Array("five twelve\n".utf8))
        // The folder is on /dev/shm, a tmpfs mounted from "tmpfs".
        let agent = try startAgent("""
        watch = $ROOT
        deny all : size>4K path=$ROOT/big,$ROOT/small
        deny all : sha256hash=6667b2d1aab6a00caa5aee5af8ad9f1465e567abf1c209d15727d57b3e8f6e5f
        deny all : path=glob:$ROOT/deep/**/*.sh fstype=tmpfs device=tmpfs
        deny all : filehash=5b17cedb24e0073d16c2714ca66bf88558a7d294f90d006eec54e26f4a680cb8fe692ba9a3094f4e739a8299768fc95eae6f41db7177c479868914a616e5c0d8
        """)
        XCTAssertEqual(answers([big, small, hashed, globbed, plain, hashed512]), [.deny, .allow, .deny, .deny, .allow, .deny])
        sandbox.file("other/hashed", contents: Array("changed\n".utf8))
        XCTAssertEqual(answers([hashed]), [.allow], "a modified file is hashed afresh")
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
        XCTAssertEqual(answers(files), [.deny, .allow, .deny, .deny])
        XCTAssertEqual(kernel.events.map(\.auditRule), [1, 2, nil, nil], "the _audit rules ask the kernel for an audit record")
        stop(agent)
    }

    func testOddNamesAreMatchedByteForByte() throws {
        // A path of 4090 bytes: PATH_MAX (4096) less a few.
        var deep: [UInt8] = []
        let deepLength = 4090 - sandbox.path("allow/leaf").count
        while deep.count < deepLength {
            let n = min(200, deepLength - deep.count)
            deep += [UInt8](repeating: UInt8(ascii: "d"), count: max(n - 1, 1)) + [UInt8(ascii: "/")]
        }
        let names: [[UInt8]] = [
            Array("with space".utf8),
            Array("new\nline".utf8),
            Array("bad-".utf8) + [0xFF, 0xC3, 0x28],
            Array("quote\"back\\slash".utf8),
            [UInt8](repeating: UInt8(ascii: "n"), count: 255),
            deep + Array("leaf".utf8),
        ]
        var rules = "watch = $ROOT\n"
        var denied: [[UInt8]] = []
        var allowed: [[UInt8]] = []
        for name in names {
            denied.append(sandbox.file(Array("deny/".utf8) + name))
            allowed.append(sandbox.file(Array("allow/".utf8) + name))
            rules += "deny perm=open all : path=\"" + printable(sandbox.path(Array("deny/".utf8) + name)) + "\"\n"
        }
        XCTAssertEqual(allowed.last!.count, 4090, "the deep path is near PATH_MAX")
        let agent = try startAgent(rules)
        XCTAssertEqual(answers(denied), Array(repeating: .deny, count: names.count))
        XCTAssertEqual(answers(allowed), Array(repeating: .allow, count: names.count))
        stop(agent)
    }

    /// Regression: a file named like the rest of a log line produced a MESSAGE
    /// that read as a denial of sshd by root.
    func testAPathCannotImitateTheLinesOwnFields() throws {
        let name = "x by /usr/sbin/sshd[1] uid=0 rule=/etc/fanfilter/policy:1 "
        let forged = sandbox.file("d/" + name)
        let log = LogCapture()
        let agent = try startAgent("watch = $ROOT\ndeny_log perm=open all : dir=$ROOT/d/", logger: log.logger)
        XCTAssertEqual(answers([forged], pid: subject().pid), [.deny])
        let entry = try XCTUnwrap(log.wait { $0.message.hasPrefix("deny open") })
        XCTAssertTrue(entry.message.hasPrefix("deny open \"\(sandbox.root)/d/\(name)\" by \(openerPath)["), entry.message)
        XCTAssertTrue(entry.message.hasSuffix(" uid=\(getuid()) rule=test.policy:2"), entry.message)
        XCTAssertEqual(entry.metadata["FANFILTER_PATH"]?.description, printable(forged), "the field keeps the path itself")
        stop(agent)
    }

    // MARK: which allows go to the kernel cache (cache = kernel, the default)

    func testAnAllowForEveryProcessIsMarkedOnce() throws {
        let file = sandbox.file("hot")
        let agent = try startAgent("watch = $ROOT\ndeny perm=open all : path=$ROOT/denied")
        XCTAssertEqual(answers([file]), [.allow])
        XCTAssertEqual(kernel.ignored, ["open \(printable(file))"])
        XCTAssertEqual(agent.counters[.ignoreMarks], 1)
        stop(agent)
    }

    func testAnAllowThatDependsOnTheProcessIsNotMarked() throws {
        let file = sandbox.file("secret")
        let agent = try startAgent("watch = $ROOT\ndeny perm=open uid=0 : path=$ROOT/secret")
        let user = subject(unprivileged: true).pid
        XCTAssertEqual(answers([file, file], pid: user), [.allow, .allow])
        XCTAssertEqual(answers([file, file], pid: 1), [.deny, .deny], "init is root")
        XCTAssertEqual(kernel.ignored, [])
        // The agent's own cache: one evaluation for each process's facts.
        XCTAssertEqual(agent.counters[.cacheMisses], 2)
        XCTAssertEqual(agent.counters[.cacheHits], 2)
        stop(agent)
    }

    func testLoggedDecisionsAndCacheOffAreNeverMarked() throws {
        let file = sandbox.file("logged")
        let agent = try startAgent("watch = $ROOT\ncache = off\nallow all : all")
        XCTAssertEqual(answers([file, file]), [.allow, .allow])
        _ = try agent.reload(try policy("watch = $ROOT\nallow_log all : all", in: sandbox))
        XCTAssertEqual(answers([file, file]), [.allow, .allow])
        XCTAssertEqual(kernel.ignored, [])
        stop(agent)
    }

    func testAReloadThatTurnsAllowIntoDenyDropsTheMarks() throws {
        let file = sandbox.file("flip")
        let agent = try startAgent("watch = $ROOT\nallow all : all")
        XCTAssertEqual(answers([file]), [.allow])
        XCTAssertEqual(kernel.ignored.count, 1)
        _ = try agent.reload(try policy("watch = $ROOT\ndeny all : path=$ROOT/flip", in: sandbox))
        XCTAssertEqual(kernel.flushes, 1, "the reload dropped every ignore mark")
        XCTAssertEqual(answers([file]), [.deny])
        XCTAssertEqual(agent.counters[.cacheFlushes], 1)
        stop(agent)
    }
}
