@testable import EventFacts
import Foundation
import Glibc
import TestSupport
import XCTest

/// Processes' names read through their /proc/PID/comm kept open.
final class ProcessNamesTests: XCTestCase {
    private func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    private func comm(_ pid: Int32) -> [UInt8]? {
        FileManager.default.contents(atPath: "/proc/\(pid)/comm").map { Array($0) }
    }

    /// A child running `sleep 30`, once it has exec'd (until then /proc shows the test's own name).
    private func sleeper() -> Child {
        let child = Child(["/bin/sleep", "30"])
        XCTAssertTrue(eventually { self.comm(child.pid) == Array("sleep\n".utf8) }, "the child exec'd sleep")
        return child
    }

    @discardableResult
    private func rename<Name: Collection<UInt8>>(to name: Name) -> Bool {
        let fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC)
        defer { close(fd) }
        let bytes = Array(name)
        return fd >= 0 && write(fd, bytes, bytes.count) == bytes.count
    }

    func testANameIsReadAsItIsNowNotAsItWasWhenItsFileWasOpened() throws {
        let names = ProcessNames()
        let before = try XCTUnwrap(comm(getpid()))
        XCTAssertEqual(names.name(of: getpid()), before)
        // This thread group may rename its leader; the name is put back after.
        XCTAssertTrue(rename(to: Array("renamed-now".utf8)))
        defer { rename(to: before.dropLast()) }  // without the newline /proc adds
        XCTAssertEqual(names.name(of: getpid()), Array("renamed-now\n".utf8))
        XCTAssertEqual(names.openCount, 1, "read again through the file kept open")
    }

    func testAnExitedProcessIsNotReadThroughItsKeptFile() {
        let names = ProcessNames()
        let child = sleeper()
        XCTAssertEqual(names.name(of: child.pid), Array("sleep\n".utf8))
        XCTAssertEqual(names.openCount, 1)
        kill(child.pid, SIGKILL)
        _ = child.wait()
        // Its file fails (ESRCH) once it has exited: closed, and nothing is read for the pid.
        XCTAssertNil(names.name(of: child.pid))
        XCTAssertEqual(names.openCount, 0)
    }

    func testAGoneProcessHasNoName() {
        XCTAssertNil(ProcessNames().name(of: Int32.max - 1))
    }

    func testAtMostCapacityFilesStayOpenAndAllAreClosedAtTheEnd() {
        let before = openDescriptors()
        let children = (0..<3).map { _ in sleeper() }
        defer { for child in children { kill(child.pid, SIGKILL); _ = child.wait() } }
        let opened = openDescriptors()  // the children's pipes
        do {
            let names = ProcessNames(capacity: 2)
            for child in children + children { XCTAssertEqual(names.name(of: child.pid), Array("sleep\n".utf8)) }
            XCTAssertEqual(names.openCount, 2)
            XCTAssertEqual(openDescriptors(), opened + 2)
        }
        XCTAssertEqual(openDescriptors(), opened)
        XCTAssertEqual(opened, before + 3)
    }
}
