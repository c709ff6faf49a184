@testable import FanFilter
import Glibc
import Policy
import XCTest

/// Paths and subjects as the agent reads them from /proc.
final class ProcFactsTests: XCTestCase {
    func testPathOfADeletedFileLosesTheDeletedSuffix() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let path = sandbox.file("gone")
        let fd = open(cString(path), O_RDONLY)
        defer { close(fd) }
        unlink(cString(path))
        XCTAssertEqual(ProcFacts.path(of: fd), path)
    }

    func testAFileReallyNamedDeletedKeepsItsName() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let path = sandbox.file("x (deleted)")
        let fd = open(cString(path), O_RDONLY)
        defer { close(fd) }
        XCTAssertEqual(ProcFacts.path(of: fd), path)
    }

    func testSubjectOfThisProcess() {
        let me = ProcFacts.subject(pid: getpid(), pidfd: -1)
        XCTAssertEqual(me.uid, geteuid())
        XCTAssertEqual(me.gid, getegid())
        XCTAssertNotNil(me.comm)
        XCTAssertEqual(me.exe.map { String(decoding: $0, as: UTF8.self) }, productsDirectory + "fanfilterPackageTests.xctest")
    }

    func testSubjectOfAGoneProcessIsUnknown() {
        let gone = ProcFacts.subject(pid: Int32.max - 1, pidfd: -1)
        XCTAssertEqual(gone, SubjectFacts(pid: Int32.max - 1))
    }

    func testStatusFieldTakesTheEffectiveId() {
        let status = Array("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t5\t6\t7\t8\n".utf8)
        XCTAssertEqual(ProcFacts.statusField(status, "Uid:"), 0)
        XCTAssertEqual(ProcFacts.statusField(status, "Gid:"), 6)
        XCTAssertNil(ProcFacts.statusField(status, "Foo:"))
    }
}
