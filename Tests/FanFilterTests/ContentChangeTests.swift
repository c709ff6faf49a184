import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// A decision on a file's contents (a digest, a type) must still be true
/// when the kernel gets the answer, and no cache may outlive it (issue 27,
/// "Contents that change under a decision").
final class ContentChangeTests: KernelTestCase {
    func exec(_ path: [UInt8]) -> Child { Child([Array(openerPath.utf8), Array("exec".utf8), path], mergeStderr: true) }

    /// The first bytes of `path` replaced by those of `source` (as its owner
    /// could), through write(2), from a child process; bounded.
    func overwrite(_ path: [UInt8], with source: String) -> Child.Result {
        Child(["/bin/dd", "if=\(source)", "of=\(printable(path))", "conv=notrunc", "status=none"], mergeStderr: true)
            .wait(timeout: .seconds(30))
    }

    /// Regression: a binary allowed by its digest was rewritten by its owner
    /// while its execution waited for the digest, and the digest of the old
    /// bytes let the new ones run (4 of 4 with a 62 MB binary). The file is
    /// now held still by a read lease on the event's fd while it is hashed and
    /// a while past the answer: the writer waits, and the execution runs the
    /// bytes that were hashed, or fails (ETXTBSY) if the writer gets in
    /// first. (With the lease let go at the answer, 3 runs of 8 still ran
    /// /bin/false: the writer got in before the kernel refused writers.)
    func testABinaryRewrittenWhileItIsHashedNeverRunsOnTheOldBytesDigest() throws {
        let program = paddedBinary("bin/prog", from: "/bin/true", megabytes: 160)
        let log = LogCapture()
        let agent = try startAgent("""
        watch = $ROOT
        reply_timeout = 30s
        hash_max_size = 256M
        allow perm=execute all : sha256hash=\(program.sha256)
        deny perm=execute all : dir=$ROOT/bin/
        """, logger: log.logger)
        let hashed = agent.counters[.filesHashed]
        let running = exec(program.path)
        XCTAssertTrue(eventually { agent.counters[.filesHashed] > hashed }, "the agent started hashing")
        let writer = overwrite(program.path, with: "/bin/false")
        let ran = running.wait(timeout: .seconds(60))
        XCTAssertFalse(ran.hung || writer.hung)
        XCTAssertNotEqual(ran.status, 1, "/bin/false ran: a digest of the old bytes vouched for the new ones")
        XCTAssertTrue(ran.status == 0 || ran.output == "errno26\n", "the hashed bytes ran, or the writer got in first (ETXTBSY): \(ran) \(log.all.map(\.message))")
        XCTAssertTrue(eventually { self.exec(program.path).wait().status == 126 }, "rewritten: its digest no longer matches")
        stop(agent)
    }

    /// A file open for writing has no contents a decision may rest on: it
    /// matches no digest (an allow by sha256hash does not hold, a deny would),
    /// and once the writer has gone the same file is allowed again.
    func testAFileOpenForWritingMatchesNoDigest() throws {
        let contents = Array("a library\n".utf8)
        let library = sandbox.file("lib/libx.so", contents: contents)
        let sum = String(Child(["/usr/bin/sha256sum", printable(library)]).wait().output.prefix(64))
        let agent = try startAgent("""
        watch = $ROOT
        allow perm=open all : sha256hash=\(sum)
        deny perm=open all : dir=$ROOT/lib/
        """)
        XCTAssertEqual(openFromChild([library]), ["ok"])
        // The agent's own process (this test) is the writer: its opens are allowed.
        let writer = open(printable(library), O_WRONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(writer, 0)
        XCTAssertEqual(openFromChild([library]), ["EPERM"], "open for writing: no digest vouches for it")
        close(writer)
        XCTAssertEqual(openFromChild([library]), ["ok"], "the writer gone, and nothing written: allowed again")
        stop(agent)
    }

    /// Regression: with `cache = kernel` (the default) an allow by digest was
    /// kept by an ignore mark, which a write through a shared mapping (no
    /// modify event) does not clear: an allow-listed binary rewritten so ran
    /// as another program. Decisions on contents are kept only in the agent's
    /// cache, by the file's identity, which such a write moves.
    func testAWriteThroughASharedMappingOutlivesNoCachedAllow() throws {
        let program = paddedBinary("bin/prog", from: "/bin/true", megabytes: 0)
        let agent = try startAgent("""
        watch = $ROOT
        allow perm=execute all : sha256hash=\(program.sha256)
        deny perm=execute all : dir=$ROOT/bin/
        """)
        XCTAssertEqual(exec(program.path).wait().status, 0)
        XCTAssertEqual(exec(program.path).wait().status, 0, "allowed again, from a cache")
        let replacement = try Array(Data(contentsOf: URL(fileURLWithPath: "/bin/false")))
        let fd = open(printable(program.path), O_RDWR | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        guard let map = mmap(nil, replacement.count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), map != MAP_FAILED else {
            return XCTFail("mmap: \(errno)")
        }
        replacement.withUnsafeBytes { map.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        munmap(map, replacement.count)
        close(fd)
        let ran = exec(program.path).wait()
        XCTAssertNotEqual(ran.status, 1, "/bin/false ran: a cached allow outlived a write through a mapping")
        XCTAssertEqual(ran.output, "EPERM\n")
        stop(agent)
    }
}
