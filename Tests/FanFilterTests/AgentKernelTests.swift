import Dispatch
import Fanotify
import Foundation
import Glibc
import Policy
import Synchronization
import SystemCall
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
        deny_audit perm=open all : path=$ROOT/data/payroll.csv
        """)
        XCTAssertTrue(agent.features.audit, "this kernel gives FAN_ENABLE_AUDIT to root")
        XCTAssertEqual(openFromChild([secret, plain]), ["EPERM", "ok"], "the kernel took the answer that asks for an audit record")
        XCTAssertEqual(agent.watched.map(\.scope), ["filesystem"])
        stop(agent)
        XCTAssertEqual(agent.counters[.denied], 1)
        XCTAssertGreaterThanOrEqual(agent.counters[.allowed], 1)
    }

    func testTheThreadsEveryOpenerWaitsForRunAtTheBoostAndGiveItBack() throws {
        /// This process's threads at nice -7 (/proc/self/task/*/stat's 19th field).
        func boosted() -> Int {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.filter { tid in
                guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return false }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 16 && fields[16] == "-7"
            }.count
        }
        XCTAssertEqual(boosted(), 0)
        let plain = sandbox.file("data/notes.txt")
        let agent = try startAgent("""
        watch = $ROOT
        workers = 2
        priority_boost = 7
        allow perm=any all : all
        """)
        // The reader, two workers and their two spill threads; the hasher and the rest are not boosted.
        XCTAssertTrue(eventually { boosted() == 5 }, "\(boosted()) threads at nice -7")
        XCTAssertEqual(openFromChild([plain]), ["ok"])
        stop(agent)
        XCTAssertTrue(eventually { boosted() == 0 }, "a pool thread goes back at the default priority")
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

    /// Regression: fapolicyd's `watch_fs` became a fixed list of today's
    /// mounts, so a filesystem of a watched type mounted later (a user's
    /// /run/user/UID at login, a new disk) was never watched. `watch_fs`
    /// follows the mounts: each new filesystem of a watched type is marked
    /// without a reload. (A ramfs, a type this machine mounts nowhere else.)
    func testAFilesystemOfAWatchedTypeMountedLaterIsWatched() throws {
        let mounted = String(decoding: WholeFile.read("/proc/self/mountinfo") ?? [], as: UTF8.self)
        guard !mounted.contains(" - ramfs ") else { throw XCTSkip("a ramfs is mounted here: watching every ramfs would mark it") }
        let point = sandbox.path("ram")
        XCTAssertEqual(mkdir(cString(point), 0o755), 0)
        let outside = sandbox.file("outside")
        let log = LogCapture()
        let agent = try startAgent("watch_fs = ramfs\ndeny perm=open all : path=$ROOT/ram/secret,$ROOT/outside", logger: log.logger)
        XCTAssertEqual(agent.watched, [], "no ramfs yet")
        XCTAssertEqual(mount("ramfs", printable(point), "ramfs", 0, "mode=0755"), 0)
        let secret = sandbox.file("ram/secret")
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("a filesystem of a watched type is mounted at \(sandbox.root)/ram: watching it") },
                        "\(log.all.map(\.message))")
        XCTAssertEqual(openFromChild([secret, outside]), ["EPERM", "ok"], "the ramfs is watched, the sandbox's tmpfs is not")
        XCTAssertEqual(umount2(printable(point), Int32(MNT_DETACH)), 0)
        XCTAssertNotNil(log.wait { $0.message.contains("the filesystem watched at \(sandbox.root)/ram for its type is unmounted") })
        XCTAssertEqual(agent.watched, [])
        stop(agent)
    }

    /// Regression (a bypass, found on 5.10 by the mount-churn stress test): a
    /// tmpfs unmounted and another mounted in its place at once can get the
    /// freed device number back, so the watched path's device looked
    /// unchanged and the new filesystem went unwatched. With `cache = user`
    /// nothing of the agent holds the old one, so its number is freed at the
    /// unmount. Now every mount change marks each watched mount point again.
    func testANewTmpfsWithTheOldOnesDeviceNumberIsWatched() throws {
        let point = sandbox.path("m")
        XCTAssertEqual(mkdir(cString(point), 0o755), 0)
        mountTmpfs(point)
        let path = String(decoding: point, as: UTF8.self)
        let agent = try startAgent("watch = $ROOT/m\ncache = user\ndeny perm=open all : path=$ROOT/m/secret")
        var rewatched = 0, sameNumber = 0
        for _ in 0..<10 {
            var before = stat(), after = stat()
            stat(path, &before)
            XCTAssertEqual(umount2(path, Int32(MNT_DETACH)), 0)
            mountTmpfs(point)
            stat(path, &after)
            if before.st_dev == after.st_dev { sameNumber += 1 }
            // Made under another name: its own open for writing may already be denied.
            let made = sandbox.file("m/secret.new")
            XCTAssertEqual(rename(cString(made), cString(sandbox.path("m/secret"))), 0)
            if eventually(timeout: .seconds(10), { openFromChild([sandbox.path("m/secret")]) == ["EPERM"] }) { rewatched += 1 }
        }
        XCTAssertGreaterThan(sameNumber, 0, "the kernel gave a new tmpfs the old one's number (the case under test)")
        XCTAssertEqual(rewatched, 10, "each new tmpfs was watched")
        stop(agent)
        umount2(path, Int32(MNT_DETACH))
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
