import Dispatch
import FanFilter
import Foundation
import Glibc
import Policy
import Synchronization
import TestSupport
import XCTest

/// The agent against the real kernel: fanotify permission events on a private
/// tmpfs, openers in child processes.
final class AgentKernelTests: KernelTestCase {
    func testDeniedOpenFailsWithEPERMAndAllowedOpenSucceeds() throws {
        let secret = sandbox.file("data/payroll.csv")
        let plain = sandbox.file("data/notes.txt")
        let agent = try startAgent("""
        watch = $ROOT
        deny perm=open all : path=$ROOT/data/payroll.csv
        """)
        XCTAssertEqual(openFromChild([secret, plain]), ["EPERM", "ok"])
        XCTAssertEqual(agent.watched.map(\.scope), ["filesystem"])
        stop(agent)
        XCTAssertEqual(agent.counters[.denied], 1)
        XCTAssertGreaterThanOrEqual(agent.counters[.allowed], 1)
    }

    func testDeniedExecutionFails() throws {
        let denied = sandbox.executable("uploads/true", from: "/bin/true")
        let allowed = sandbox.executable("bin/true", from: "/bin/true")
        let agent = try startAgent("""
        watch = $ROOT
        deny_log perm=execute all : dir=$ROOT/uploads/
        """)
        let blocked = Child([Array(openerPath.utf8), Array("exec".utf8), denied]).wait()
        XCTAssertEqual(blocked.status, 126)
        XCTAssertEqual(blocked.lines, ["EPERM"])
        let ran = Child([Array(openerPath.utf8), Array("exec".utf8), allowed]).wait()
        XCTAssertEqual(ran.status, 0)
        XCTAssertEqual(openFromChild([denied]), ["ok"], "perm=execute leaves plain opens alone")
        stop(agent)
        XCTAssertGreaterThanOrEqual(agent.counters[.execute], 2)
    }

    func testOddNamesAreMatchedByteForByte() throws {
        let long = [UInt8](repeating: UInt8(ascii: "n"), count: 255)
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
            long,
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
        XCTAssertEqual(openFromChild(denied), Array(repeating: "EPERM", count: names.count))
        XCTAssertEqual(openFromChild(allowed), Array(repeating: "ok", count: names.count))
        stop(agent)
    }

    func testSubjectAttributesUidCommAndExe() throws {
        let byUid = sandbox.file("uid")
        let byExe = sandbox.file("exe")
        let byComm = sandbox.file("comm")
        chmod(cString(sandbox.path("")), 0o755)
        let agent = try startAgent("""
        watch = $ROOT
        deny perm=open uid=1000 : path=$ROOT/uid
        deny perm=open exe=\(openerPath) : path=$ROOT/exe
        deny perm=open comm=cat : path=$ROOT/comm
        """)
        XCTAssertEqual(openFromChild([byUid]), ["ok"], "root is not uid 1000")
        XCTAssertEqual(openFromChild([byUid], prefix: asUser1000), ["EPERM"])
        XCTAssertEqual(openFromChild([byExe]), ["EPERM"])
        let cat = Child(["/bin/cat", String(decoding: byComm, as: UTF8.self)]).wait()
        XCTAssertNotEqual(cat.status, 0, "cat is denied by comm")
        XCTAssertEqual(openFromChild([byComm]), ["ok"], "another comm is allowed")
        stop(agent)
    }

    /// Regression: large binaries under a sha256hash rule outlasted the reply
    /// timeout and ran, because on_timeout = allow answered them, and the log
    /// named no file. Executions now get on_timeout_execute (deny by default).
    func testASlowDecisionNeverRunsAProgramAndNamesTheFile() throws {
        let binary = sandbox.executable("bin/true", from: "/bin/true")
        let data = sandbox.file("data")
        let log = LogCapture()
        let agent = try startStalledAgent("""
        watch = $ROOT
        reply_timeout = 100ms
        on_timeout = allow
        """, stall: 400_000, logger: log.logger)
        let r = Child([Array(openerPath.utf8), Array("exec".utf8), binary]).wait()
        XCTAssertEqual(r.lines, ["EPERM"], "on_timeout_execute = deny by default")
        XCTAssertEqual(openFromChild([data]), ["ok"], "on_timeout = allow still answers opens")
        let entry = try XCTUnwrap(log.wait { $0.message.hasPrefix("deny execute \(printable(binary))") }, "\(log.all.map(\.message))")
        XCTAssertTrue(entry.message.contains(" by \(openerPath)["), entry.message)
        XCTAssertTrue(entry.message.hasSuffix("setting=on_timeout_execute (no decision within reply_timeout 0.1 seconds)"), entry.message)
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("allow open \(printable(data))") }, "a timeout that let a file through names it")
        usleep(500_000)
        stop(agent)
    }

    func testOneStuckWorkerHoldsNoOtherEventWhileTheOthersAreIdle() throws {
        let slow = sandbox.file("slow")
        let denied = sandbox.file("denied")
        let agent = try startAgent("""
        watch = $ROOT
        workers = 4
        reply_timeout = 1s
        on_timeout = allow
        deny perm=open all : path=$ROOT/denied
        """) { request in
            if request.object.path.map({ $0.suffix(5).elementsEqual("/slow".utf8) }) ?? false { usleep(2_000_000) }
            return Policy.denyPath(request, suffix: "/denied")
        }
        let stuck = Child([Array(openerPath.utf8), Array("open".utf8), slow])
        usleep(300_000)  // a worker is stuck on it, the reader idle
        let r = Child([Array(openerPath.utf8), Array("open".utf8), denied]).wait()
        XCTAssertEqual(r.lines, ["EPERM"], "decided by an idle worker, not answered on_timeout")
        XCTAssertLessThan(r.elapsed, .milliseconds(500))
        XCTAssertEqual(stuck.wait().lines, ["ok"], "on_timeout = allow")
        stop(agent)
    }

    func testConcurrentOpenersWithRandomStallsAllGetExactlyOneAnswer() throws {
        let files = (0..<50).map { sandbox.file("load/\($0)") }
        let agent = try startAgent("""
        watch = $ROOT
        workers = 4
        reply_timeout = 20ms
        queue_size = 64
        deny perm=open all : path=$ROOT/load/7
        """) { request in
            if UInt8.random(in: 0..<100) < 2 { usleep(UInt32.random(in: 0..<30_000)) }
            return Policy.denySeven(request)
        }
        let perOpener = 20_000
        let openers = (0..<4).map { _ in
            Child([Array(openerPath.utf8), Array("loop".utf8), Array(String(perOpener).utf8)] + files)
        }
        let results = openers.map { $0.wait(timeout: .seconds(300)) }
        for r in results {
            XCTAssertFalse(r.hung, "an opener hung")
            XCTAssertEqual(r.status, 0)
            let counts = Dictionary(uniqueKeysWithValues: r.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).map {
                let kv = $0.split(separator: "=")
                return (String(kv[0]), Int(kv[1])!)
            })
            XCTAssertEqual(counts["ok"]! + counts["eperm"]!, perOpener, "every open returned ok or EPERM")
            XCTAssertEqual(counts["other"], 0)
        }
        stop(agent)
        XCTAssertGreaterThanOrEqual(agent.counters[.events], UInt64(4 * perOpener))
    }
}

extension Policy {
    /// The stress test's decision: deny load/7, allow the rest (path suffix, so it needs no sandbox).
    static func denySeven(_ request: AccessRequest) -> Decision {
        denyPath(request, suffix: "/load/7")
    }

    /// Deny the paths that end in `suffix`, allow the rest.
    static func denyPath(_ request: AccessRequest, suffix: String) -> Decision {
        let suffix = Array(suffix.utf8)
        let denied = request.object.path.map { $0.count >= suffix.count && $0.suffix(suffix.count).elementsEqual(suffix) } ?? false
        return Decision(verdict: denied ? .deny : .allow, rule: nil)
    }
}

/// Regression: after the watched tmpfs was unmounted and a new one mounted
/// on the same path, its files opened freely until the next SIGHUP; a SIGHUP
/// while it was unmounted marked the parent filesystem instead.
final class MountFollowingTests: KernelTestCase {
    func mountTmpfs(_ path: [UInt8]) {
        XCTAssertEqual(mount("tmpfs", String(decoding: path, as: UTF8.self), "tmpfs", 0, "size=16m,mode=0755"), 0)
    }

    func testAFilesystemMountedAgainWhereOneWasWatchedIsWatchedAgain() throws {
        let point = sandbox.path("m")
        XCTAssertEqual(mkdir(cString(point), 0o755), 0)
        mountTmpfs(point)
        let secret = sandbox.file("m/secret")
        let outside = sandbox.file("outside")
        let log = LogCapture()
        let text = "watch = $ROOT/m\ndeny perm=open all : path=$ROOT/m/secret,$ROOT/outside"
        let agent = try startAgent(text, logger: log.logger)
        XCTAssertEqual(openFromChild([secret, outside]), ["EPERM", "ok"], "only the tmpfs at m is watched")

        // Lazily, as `umount -l` does: the agent's own open folders would make a plain umount fail with EBUSY.
        XCTAssertEqual(umount2(String(decoding: point, as: UTF8.self), Int32(MNT_DETACH)), 0)
        XCTAssertNotNil(log.wait { $0.message.contains("the filesystem watched at \(sandbox.root)/m is gone") }, "\(log.all.map(\.message))")
        XCTAssertNil(agent.watched.first?.device, "nothing is marked for m now")
        // A reload while nothing is mounted there never marks the filesystem that holds the path.
        _ = try agent.reload(try policy(text, in: sandbox))
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("not watching \(sandbox.root)/m: the filesystem mounted there before is gone") })
        XCTAssertEqual(openFromChild([outside]), ["ok"], "the sandbox's own filesystem was not marked in its place")

        mountTmpfs(point)
        sandbox.file("m/secret")
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("a new filesystem is mounted at \(sandbox.root)/m: watching it (filesystem tmpfs tmpfs ") },
                        "\(log.all.map(\.message))")
        XCTAssertEqual(openFromChild([secret, outside]), ["EPERM", "ok"], "the new tmpfs is watched without a reload")
        XCTAssertNotNil(agent.watched.first?.device)
        stop(agent)
        umount2(String(decoding: point, as: UTF8.self), Int32(MNT_DETACH))
    }
}
