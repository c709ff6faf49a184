@testable import FanFilter
import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// Regression: eleven 60 MiB binaries executed at once under "allow execute
/// by sha256hash, else deny" ran, because hashing outlasted reply_timeout.
/// Files are hashed on the hasher's own thread, once each; a worker waits no
/// longer than its event's deadline; one process gets a bounded share.
final class BackgroundHasherTests: KernelTestCase {
    func bigBinary(_ name: String, megabytes: Int, fill: UInt8 = 0) -> (path: [UInt8], sha256: String) {
        paddedBinary(name, from: "/bin/true", megabytes: megabytes, fill: fill)
    }

    func exec(_ path: [UInt8]) -> Int32 {
        Child([Array(openerPath.utf8), Array("exec".utf8), path]).wait().status
    }

    func testALargeBinaryIsNeverRunByBeingSlowAndIsDecidedOnceHashed() throws {
        let big = bigBinary("big/true", megabytes: 48)
        let small = sandbox.file("denied")
        let log = LogCapture()
        let agent = try startAgent("""
        watch = $ROOT
        workers = 1
        reply_timeout = 10ms
        on_timeout = allow
        hash_max_size = 128M
        allow perm=execute all : sha256hash=\(big.sha256)
        deny perm=execute all : dir=$ROOT/big/
        deny perm=open all : path=$ROOT/denied
        """, logger: log.logger)
        XCTAssertEqual(exec(big.path), 126, "still being hashed at reply_timeout: on_timeout_execute (deny)")
        XCTAssertEqual(openFromChild([small]), ["EPERM"], "the one worker is not held by the hash: it decides the next event")
        XCTAssertTrue(eventually(every: .milliseconds(20)) { exec(big.path) == 0 }, "once hashed (in the background, once) the allow by hash decides it: \(log.all.map(\.message))")
        stop(agent)
    }

    /// One user's processes, two files each, could fill the whole hash queue,
    /// and then every other user's file to hash got on_overload. While the
    /// queue is at least half full each user may add a quarter of it more.
    func testOneUserGetsABoundedShareOfABusyHashQueue() throws {
        let hasher = BackgroundHasher(queueLimit: 4)  // busy from 2 queued; a user's share 1
        defer { hasher.stop() }
        func open(_ path: [UInt8]) -> EventFile { EventFile(Glibc.open(String(decoding: path, as: UTF8.self), O_RDONLY)) }
        let big = sandbox.file("big")
        XCTAssertEqual(truncate(String(decoding: big, as: UTF8.self), 1 << 30), 0)  // sparse: a second or so to hash
        let users = (0..<4).map { _ in Child(asUser1000.map { Array($0.utf8) } + [Array("/bin/sleep".utf8), Array("30".utf8)]) }
        defer { for u in users { kill(u.pid, SIGKILL); _ = u.wait() } }
        XCTAssertTrue(eventually { users.allSatisfy { ProcFacts.realUID(pid: $0.pid, pidfd: -1) == 1000 } })
        let files = (0..<5).map { open(sandbox.file("f\($0)", contents: Array("\($0)".utf8))) }
        XCTAssertEqual(hasher.digest(of: open(big), maxSize: .max, subject: getpid(), until: .now()), .late)
        XCTAssertTrue(eventually { hasher.queued == 0 }, "the hasher took the large file")
        // uid 1000's first two files come while the queue is not busy; its third is its share.
        for i in 0..<3 {
            XCTAssertEqual(hasher.digest(of: files[i], maxSize: .max, subject: users[i].pid, until: .now()), .late)
        }
        XCTAssertEqual(hasher.digest(of: files[3], maxSize: .max, subject: users[3].pid, until: .now()), .busy,
                       "uid 1000 has its share of the busy queue")
        XCTAssertEqual(hasher.digest(of: files[4], maxSize: .max, subject: getpid(), until: .now()), .late,
                       "root still has room")
        XCTAssertEqual(hasher.queued, 4)
    }

    func testOneProcessGetsABoundedShareOfTheHashing() throws {
        let files = (0..<3).map { bigBinary("big/f\($0)", megabytes: 60, fill: UInt8($0)) }
        let log = LogCapture()
        let agent = try startAgent("""
        watch = $ROOT
        reply_timeout = 5s
        hash_max_size = 128M
        on_overload = deny
        allow perm=open all : sha256hash=\(files[0].sha256),\(files[1].sha256),\(files[2].sha256)
        deny perm=open all : dir=$ROOT/big/
        """, logger: log.logger)
        // One process, three threads, three large files at once.
        let script = """
        import os, sys, threading
        out = {}
        def go(p):
            try:
                os.close(os.open(p, os.O_RDONLY)); out[p] = "ok"
            except OSError as e:
                out[p] = "EPERM" if e.errno == 1 else str(e.errno)
        ts = [threading.Thread(target=go, args=(p,)) for p in sys.argv[1:]]
        [t.start() for t in ts]; [t.join() for t in ts]
        print(" ".join(sorted(out.values())))
        """
        let r = Child(["/usr/bin/python3", "-c", script] + files.map { printable($0.path) }, mergeStderr: true).wait()
        XCTAssertEqual(r.output, "EPERM ok ok\n", "two files hashed and allowed, the third answered on_overload")
        XCTAssertNotNil(log.wait { $0.message.contains("setting=on_overload (the process already has 2 files being hashed") },
                        "\(log.all.map(\.message))")
        stop(agent)
    }
}
