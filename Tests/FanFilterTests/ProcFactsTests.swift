@testable import FanFilter
import Foundation
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
        let status = Array("Name:\tx\nPPid:\t77\nUid:\t1000\t0\t0\t0\nGid:\t5\t6\t7\t8\n".utf8)
        XCTAssertEqual(ProcFacts.statusField(status, "Uid:", index: 1), 0)
        XCTAssertEqual(ProcFacts.statusField(status, "Gid:", index: 1), 6)
        XCTAssertEqual(ProcFacts.statusField(status, "PPid:", index: 0), 77)
        XCTAssertNil(ProcFacts.statusField(status, "Foo:", index: 0))
    }

    func testCommComesFromTheStatusNameLineUnescaped() {
        XCTAssertEqual(ProcFacts.statusName(Array("Name:\tcat\nUmask:\t0022\n".utf8)), Array("cat".utf8))
        // The kernel writes a comm of "a<newline>b\c d" as "a\nb\\c d".
        XCTAssertEqual(ProcFacts.statusName(Array("Name:\ta\\nb\\\\c d\n".utf8)), Array("a\nb\\c d".utf8))
        let comm = try? String(contentsOfFile: "/proc/self/comm", encoding: .utf8)
        XCTAssertEqual(ProcFacts.subject(pid: getpid(), pidfd: -1).comm.map { String(decoding: $0, as: UTF8.self) + "\n" }, comm)
    }

    func testSubjectFactsThePolicyAsksFor() {
        let me = ProcFacts.subject(pid: getpid(), pidfd: -1, needs: [.ppid, .auid, .sessionid])
        XCTAssertEqual(me.ppid, getppid())
        XCTAssertNotNil(me.auid)
        XCTAssertNotNil(me.sessionid)
        XCTAssertNil(ProcFacts.subject(pid: getpid(), pidfd: -1).ppid, "not read unless a rule tests it")
    }

    func testObjectFactsThroughTheEventFd() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let path = sandbox.file("sized", contents: Array(repeating: 65, count: 1234))
        let fd = open(cString(path), O_RDONLY)
        defer { close(fd) }
        let facts = ProcFacts.object(eventFD: fd, needs: [.size, .device, .fstype], mounts: MountTable())
        XCTAssertEqual(facts.path, path)
        XCTAssertEqual(facts.size, 1234)
        XCTAssertEqual(facts.fstype, Array("tmpfs".utf8))
        XCTAssertEqual(facts.device, Array("tmpfs".utf8))
        let sha = ObjectHasher().sha256(of: fd, maxSize: 1 << 20)
        XCTAssertEqual(sha.map { String(decoding: $0, as: UTF8.self) }, "34436cb29c22e223b2ec329419e55576cfed15ad7b7aac616d4c5b705aba813c")
        XCTAssertNil(ObjectHasher().sha256(of: fd, maxSize: 1000), "larger than hash_max_size")
    }

    func testMountinfoParsing() {
        let text = Array("22 1 8:1 / / rw - ext4 /dev/vda1 rw\n30 22 0:45 / /mnt/my\\040dir rw shared:5 - tmpfs my\\040src rw\n".utf8)
        let table = MountTable.parse(text)
        XCTAssertEqual(table[makeDevice(major: 8, minor: 1)], MountTable.Mount(source: Array("/dev/vda1".utf8), fstype: Array("ext4".utf8)))
        XCTAssertEqual(table[makeDevice(major: 0, minor: 45)]?.source, Array("my src".utf8))
    }
}
