@testable import EventFacts
@testable import Fanotify
import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// Paths and subjects as the agent reads them from /proc.
final class ProcFactsTests: XCTestCase {
    func testPathOfADeletedFileLosesTheDeletedSuffix() throws {
        let sandbox = try Sandbox(unmountedIn: "/dev/shm")
        defer { sandbox.remove() }
        let path = sandbox.file("gone")
        let fd = open(cString(path), O_RDONLY)
        defer { close(fd) }
        unlink(cString(path))
        XCTAssertEqual(ProcFacts.path(of: fd), path)
    }

    func testAFileReallyNamedDeletedKeepsItsName() throws {
        let sandbox = try Sandbox(unmountedIn: "/dev/shm")
        defer { sandbox.remove() }
        let path = sandbox.file("x (deleted)")
        let fd = open(cString(path), O_RDONLY)
        defer { close(fd) }
        XCTAssertEqual(ProcFacts.path(of: fd), path)
    }

    func testSubjectOfThisProcessFromProc() {
        let me = ProcFacts.subject(pid: getpid(), pidfd: -1, needs: [.uid, .gid, .exe], mounts: MountTable(), names: ProcessNames())
        XCTAssertEqual(me.uid, geteuid())
        XCTAssertEqual(me.gid, getegid())
        XCTAssertNil(me.comm, "not read unless asked for")
        XCTAssertEqual(me.exe.map { String(decoding: $0, as: UTF8.self) }, productsDirectory + "fanfilterPackageTests.xctest")
    }

    func testSubjectOfThisProcessThroughAPidfd() throws {
        let pidfd = try pidfdOpen(getpid())
        defer { close(pidfd) }
        let me = ProcFacts.subject(pid: getpid(), pidfd: pidfd, needs: [.ppid], mounts: MountTable(), names: ProcessNames())
        XCTAssertEqual(me.uid, geteuid())
        XCTAssertEqual(me.gid, getegid())
        XCTAssertEqual(me.ppid, getppid())
    }

    func testSubjectOfAGoneProcessIsUnknown() throws {
        let gone = ProcFacts.subject(pid: Int32.max - 1, pidfd: -1, needs: [.uid, .exe, .comm], mounts: MountTable(), names: ProcessNames())
        XCTAssertEqual(gone, SubjectFacts(pid: Int32.max - 1))
        // Through a pidfd: what was read is dropped once the process has exited.
        let child = Child(["/bin/true"])
        let pidfd = try pidfdOpen(child.pid)
        defer { close(pidfd) }
        XCTAssertEqual(child.wait().status, 0)
        XCTAssertEqual(ProcFacts.subject(pid: child.pid, pidfd: pidfd, needs: [.uid, .exe], mounts: MountTable(), names: ProcessNames()), SubjectFacts(pid: child.pid))
    }

    func testProcPathsAreBuiltWithoutAllocating() {
        func path(_ prefix: StaticString, _ n: Int32, _ suffix: StaticString) -> String {
            ProcFacts.withProcPath(prefix, n, suffix) { String(cString: $0) }
        }
        XCTAssertEqual(path("/proc/", 0, "/exe"), "/proc/0/exe")
        XCTAssertEqual(path("/proc/", 7, "/comm"), "/proc/7/comm")
        XCTAssertEqual(path("/proc/", 4_194_304, "/status"), "/proc/4194304/status")
        XCTAssertEqual(path("/proc/self/fd/", Int32.max, ""), "/proc/self/fd/2147483647")
    }

    func testStatusFieldTakesTheEffectiveId() {
        let status = Array("Name:\tx\nPPid:\t77\nUid:\t1000\t0\t0\t0\nGid:\t5\t6\t7\t8\n".utf8)
        XCTAssertEqual(ProcFacts.statusField(status, "Uid:", index: 1), 0)
        XCTAssertEqual(ProcFacts.statusField(status, "Gid:", index: 1), 6)
        XCTAssertEqual(ProcFacts.statusField(status, "PPid:", index: 0), 77)
        XCTAssertNil(ProcFacts.statusField(status, "Foo:", index: 0))
    }

    func testCommIsTheRawNameWithoutTheNewline() {
        let comm = try? String(contentsOfFile: "/proc/self/comm", encoding: .utf8)
        XCTAssertEqual(ProcFacts.subject(pid: getpid(), pidfd: -1, needs: .comm, mounts: MountTable(), names: ProcessNames()).comm.map { String(decoding: $0, as: UTF8.self) + "\n" }, comm)
    }

    func testSubjectFactsThePolicyAsksFor() {
        let me = ProcFacts.subject(pid: getpid(), pidfd: -1, needs: [.ppid, .auid, .sessionid], mounts: MountTable(), names: ProcessNames())
        XCTAssertEqual(me.ppid, getppid())
        XCTAssertNotNil(me.auid)
        XCTAssertNotNil(me.sessionid)
        XCTAssertNil(ProcFacts.subject(pid: getpid(), pidfd: -1, needs: [.uid], mounts: MountTable(), names: ProcessNames()).ppid, "not read unless a rule tests it")
    }

    func testObjectFactsThroughTheEventFd() throws {
        let sandbox = try Sandbox(unmountedIn: "/dev/shm")
        defer { sandbox.remove() }
        let path = sandbox.file("sized", contents: Array(repeating: 65, count: 1234))
        let fd = open(cString(path), O_RDONLY)
        defer { close(fd) }
        var st = stat()
        XCTAssertEqual(fstat(fd, &st), 0)
        let facts = ProcFacts.object(path: ProcFacts.path(of: fd), stat: st, needs: [.size, .device, .fstype], mounts: MountTable())
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
        let entries = MountTable.parse(text)
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0], MountTable.Entry(id: 22, device: makeDevice(major: 8, minor: 1), root: Array("/".utf8),
                                                    point: Array("/".utf8),
                                                    mount: MountTable.Mount(source: Array("/dev/vda1".utf8), fstype: Array("ext4".utf8))))
        XCTAssertEqual(entries[1].id, 30)
        XCTAssertEqual(entries[1].point, Array("/mnt/my dir".utf8))
        XCTAssertEqual(entries[1].mount.source, Array("my src".utf8))
    }
}

/// pidfd_open(2), which Swift's Glibc module does not export.
func pidfdOpen(_ pid: pid_t) throws -> Int32 {
    typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else {
        throw XCTSkip("this C library has no pidfd_open")
    }
    let fd = unsafeBitCast(symbol, to: PidfdOpen.self)(pid, 0)
    guard fd >= 0 else { throw XCTSkip("pidfd_open failed: errno \(errno)") }
    return fd
}
