import Glibc
import SystemCall
import SystemPackage
import XCTest

final class SystemCallTests: XCTestCase {
    /// A file of `count` bytes (0, 1, 2, …) in a temporary folder, open for reading.
    private func file(_ count: Int) throws -> FileDescriptor {
        var template = Array("/tmp/fanfilter-systemcall.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let file = FileDescriptor(rawValue: fd)
        _ = try file.writeAll((0..<count).map { UInt8(truncatingIfNeeded: $0) })
        _ = try file.seek(offset: 0, from: .start)
        return file
    }

    func testAFileIsReadToItsEndAcrossChunks() throws {
        let f = try file(200_000)
        defer { try? f.close() }
        let bytes = try f.readToEnd(limit: 200_000)
        XCTAssertEqual(bytes.count, 200_000)
        XCTAssertEqual(bytes[70_000], UInt8(truncatingIfNeeded: 70_000))
    }

    func testOneBytePastTheLimitIsTooLarge() throws {
        let f = try file(1025)
        defer { try? f.close() }
        XCTAssertThrowsError(try f.readToEnd(limit: 1024)) { XCTAssertEqual($0 as? Errno, .fileTooLarge) }
        // It read at most one byte past the limit: the rest is still there.
        XCTAssertEqual(try f.seek(offset: 0, from: .current), 1025)
    }

    func testAReadThatFailsSaysWhy() throws {
        let f = try FileDescriptor.open("/", .readOnly)
        defer { try? f.close() }
        XCTAssertThrowsError(try f.readToEnd(limit: 10)) { XCTAssertEqual($0 as? Errno, .isDirectory) }
    }

    func testAPrefixReadAtAnOffsetLeavesTheDescriptorsOffsetAlone() throws {
        let f = try file(10)
        defer { try? f.close() }
        XCTAssertEqual(try f.read(count: 4, at: 3), [3, 4, 5, 6])
        XCTAssertEqual(try f.read(count: 100, at: 8), [8, 9], "short at end of file")
        XCTAssertEqual(try f.read(count: 4, at: 20), [], "past the end")
        XCTAssertEqual(try f.seek(offset: 0, from: .current), 0)
    }

    func testPollSaysWhichDescriptorIsReadyOrThatTheTimePassed() throws {
        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&ends), 0)
        defer { ends.forEach { close($0) } }
        var fds = [pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0), pollfd(fd: -1, events: Int16(POLLIN), revents: 0)]
        XCTAssertEqual(try Poll.wait(&fds, milliseconds: 0), 0, "nothing written yet")
        var byte: UInt8 = 1
        XCTAssertEqual(write(ends[1], &byte, 1), 1)
        XCTAssertEqual(try Poll.wait(&fds, milliseconds: -1), 1)
        XCTAssertNotEqual(fds[0].revents & Int16(POLLIN), 0)
        XCTAssertEqual(fds[1].revents, 0, "a negative descriptor is passed over")
    }

    func testPollReportsADescriptorThatIsNotOpenInItsEvents() {
        var fds = [pollfd(fd: 1 << 30, events: Int16(POLLIN), revents: 0)]
        // poll(2) reports a descriptor that is not open in revents (POLLNVAL), not as a failure.
        XCTAssertEqual(try Poll.wait(&fds, milliseconds: 0), 1)
        XCTAssertNotEqual(fds[0].revents & Int16(POLLNVAL), 0)
    }

    func testAFailedCallNamesItsOperationAndErrno() {
        XCTAssertThrowsError(try systemCall("close fd 999999") { Glibc.close(999_999) }) { error in
            XCTAssertEqual(error as? SystemCallError, SystemCallError("close fd 999999", .badFileDescriptor))
            XCTAssertEqual("\(error)", "close fd 999999: Bad file descriptor (errno 9)")
        }
        XCTAssertThrowsError(try shimCall("a shim's call") { Int32(-ENOENT) }) { error in
            XCTAssertEqual(error as? SystemCallError, SystemCallError("a shim's call", .noSuchFileOrDirectory))
        }
    }

    func testAnInterruptedCallIsMadeAgainAndAnyOtherResultIsReturned() throws {
        var calls = 0
        let result = try systemCall("interrupted once") { () -> Int32 in
            calls += 1
            if calls == 1 { errno = EINTR; return -1 }
            return 7
        }
        XCTAssertEqual(result, 7)
        XCTAssertEqual(calls, 2)
        calls = 0
        XCTAssertEqual(try shimCall("interrupted once") { () -> Int in
            calls += 1
            return calls == 1 ? -Int(EINTR) : 0
        }, 0)
        XCTAssertEqual(calls, 2)
        // Only -1 is a failure of a system call: another negative result is its answer.
        XCTAssertEqual(try systemCall("returns -2") { Int32(-2) }, -2)
    }

    func testAFolderIsWalkedWithoutItsDotsAndNoFurtherThanTheLimit() throws {
        var template = Array("/tmp/directory-test.XXXXXX".utf8CString)
        let folder = String(cString: try XCTUnwrap(mkdtemp(&template)))
        defer { _ = try? Directory.names(in: folder).forEach { unlink(folder + "/" + String(decoding: $0, as: UTF8.self)) }; rmdir(folder) }
        for name in ["a", ".hidden", "c"] { close(open(folder + "/" + name, O_CREAT | O_WRONLY, 0o600)) }
        XCTAssertEqual(Set(try Directory.names(in: folder)), [Array("a".utf8), Array(".hidden".utf8), Array("c".utf8)])
        XCTAssertEqual(try Directory.names(in: folder, limit: 2).count, 2)
        var visited = 0
        try Directory.forEachEntry(in: folder) { entry in
            visited += 1
            XCTAssertTrue([UInt8(DT_REG), UInt8(DT_UNKNOWN)].contains(entry.type), "where the filesystem says, a regular file")
            return false
        }
        XCTAssertEqual(visited, 1, "false from the body ends the walk")
        XCTAssertThrowsError(try Directory.names(in: folder + "/missing")) { error in
            XCTAssertEqual(error as? SystemCallError, SystemCallError("opendir \(folder)/missing", .noSuchFileOrDirectory))
        }
    }

    func testAFileIsReadWholeWithinItsLimitAndAFIFONeverBlocksTheReader() throws {
        var template = Array("/tmp/whole-file-test.XXXXXX".utf8CString)
        let folder = String(cString: try XCTUnwrap(mkdtemp(&template)))
        defer { for name in ["file", "fifo"] { unlink(folder + "/" + name) }; rmdir(folder) }
        try WholeFile.replace(folder + "/file", with: Array("twelve bytes".utf8))
        XCTAssertEqual(WholeFile.read(folder + "/file"), Array("twelve bytes".utf8))
        XCTAssertNil(WholeFile.read(folder + "/file", limit: 11), "one byte past the limit")
        XCTAssertEqual(mkfifo(folder + "/fifo", 0o600), 0)
        XCTAssertNil(WholeFile.read(folder + "/fifo", regularOnly: true), "a FIFO with no writer is refused at once")
        XCTAssertNil(WholeFile.read(folder + "/missing"))
    }

    func testAFileIsReplacedWholeReadableByAllWhateverTheUmask() throws {
        var template = Array("/tmp/whole-file-test.XXXXXX".utf8CString)
        let folder = String(cString: try XCTUnwrap(mkdtemp(&template)))
        defer { unlink(folder + "/file"); rmdir(folder) }
        let saved = umask(0o077)
        defer { umask(saved) }
        try WholeFile.replace(folder + "/file", with: [1, 2, 3], synced: true)
        try WholeFile.replace(folder + "/file", with: [4])
        XCTAssertEqual(WholeFile.read(folder + "/file"), [4])
        XCTAssertEqual(try FilePath(folder + "/file").stat().mode.permissions.rawValue, 0o644)
        XCTAssertEqual(try Directory.names(in: folder), [Array("file".utf8)], "no temporary file is left")
        XCTAssertThrowsError(try WholeFile.replace(folder + "/missing/file", with: [1])) { error in
            XCTAssertEqual(error as? SystemCallError, SystemCallError("open \(folder)/missing/file.new", .noSuchFileOrDirectory))
        }
    }

    func testAFileOpenedForItsFactsNeverBlocksAndSaysWhatFailed() throws {
        var template = Array("/tmp/opened-file-test.XXXXXX".utf8CString)
        let folder = String(cString: try XCTUnwrap(mkdtemp(&template)))
        defer { unlink(folder + "/fifo"); rmdir(folder) }
        XCTAssertEqual(mkfifo(folder + "/fifo", 0o600), 0)
        let fifo = try OpenedFile(path: Array((folder + "/fifo").utf8))
        defer { fifo.close() }
        XCTAssertEqual(fifo.status.st_mode & S_IFMT, S_IFIFO, "a FIFO with no writer opened at once")
        XCTAssertFalse(fifo.isRegular)
        XCTAssertEqual(fcntl(fifo.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
        XCTAssertThrowsError(try OpenedFile(path: folder + "/missing")) { error in
            XCTAssertEqual(error as? SystemCallError, SystemCallError("open \(folder)/missing", .noSuchFileOrDirectory))
        }
    }

    func testTheOpenFileLimitIsReadAndASoftLimitAboveTheHardOneIsRefusedByName() throws {
        let (soft, hard) = try XCTUnwrap(OpenFileLimit.current)
        XCTAssertLessThanOrEqual(soft, hard)
        try OpenFileLimit.set(soft: soft, hard: hard)
        if hard < UInt64(Int64.max) {
            XCTAssertThrowsError(try OpenFileLimit.set(soft: hard + 1, hard: hard)) { error in
                XCTAssertEqual(error as? SystemCallError, SystemCallError("setrlimit RLIMIT_NOFILE \(hard + 1):\(hard)", .invalidArgument))
            }
        }
        XCTAssertEqual(OpenFileLimit.current?.soft, soft, "unchanged")
    }
}
