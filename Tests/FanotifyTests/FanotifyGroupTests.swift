@testable import Fanotify
import Glibc
import TestSupport
import XCTest

/// The group's fd is written to only while the group is open: a late answer
/// after `close()` never reaches a file that reused the fd number.
final class FanotifyGroupTests: KernelTestCase {
    func testNothingIsWrittenThroughAClosedGroup() throws {
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)
        defer { fds.forEach { close($0) } }
        let group = try FanotifyGroup(permission: true)
        let number = group.fd.rawValue
        group.close()
        // The number is reused by a pipe's write end, as any open after the close could reuse it.
        XCTAssertEqual(dup2(fds[1], number), number)
        defer { close(number) }
        XCTAssertEqual(group.respond(to: 42, .allow, auditRule: nil), .badFileDescriptor)
        XCTAssertEqual(group.respond(to: 42, .deny, auditRule: 1), .badFileDescriptor)
        XCTAssertFalse(group.ignore(42, .open))
        group.flushIgnoreMarks()
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        var byte: UInt8 = 0
        XCTAssertEqual(read(fds[0], &byte, 1), -1, "nothing reached the file that took the number")
        XCTAssertEqual(errno, EAGAIN)
    }
}
