import FanFilter
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
    /// /bin/true padded to `megabytes` (an ELF file runs with bytes after its end).
    func bigBinary(_ name: String, megabytes: Int, fill: UInt8 = 0) -> (path: [UInt8], sha256: String) {
        let fd = open("/bin/true", O_RDONLY)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while case let n = chunk.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }), n > 0 { bytes += chunk[..<n] }
        close(fd)
        bytes += [UInt8](repeating: fill, count: megabytes << 20)
        let path = sandbox.file(name, contents: bytes, mode: 0o755)
        let sum = Child(["/usr/bin/sha256sum", printable(path)]).wait().output
        return (path, String(sum.prefix(64)))
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
