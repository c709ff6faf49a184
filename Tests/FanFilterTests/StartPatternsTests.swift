@testable import FanFilter
import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// The start state, event by event, with real files and processes but no
/// kernel group (no root): the patterns it names and its bound.
final class StartPatternsTests: XCTestCase {
    func open(_ path: String) -> (Int32, stat) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        var st = stat()
        fstat(fd, &st)
        return (fd, st)
    }

    /// A pid that no process has any more.
    func exitedPid() -> Int32 {
        let child = Child(["/bin/true"])
        _ = child.wait()
        return child.pid
    }

    func testPatternsOfAStart() throws {
        let starts = StartPatterns()
        let (program, programStat) = open("/bin/true")
        let (linker, linkerStat) = open("/lib64/ld-linux-x86-64.so.2")
        let (data, dataStat) = open("/etc/hostname")
        defer { [program, linker, data].forEach { close($0) } }
        let me = getpid()
        // The program, then the kernel loading its interpreter: normal.
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .execute, file: program, stat: programStat) { nil }, .normal)
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .execute, file: linker, stat: linkerStat) { nil }, .normal)
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .open, file: data, stat: dataStat) { nil }, .normal)
        // The linker named as the command: ld_so.
        let other = exitedPid()
        XCTAssertEqual(starts.pattern(pid: other, pidfd: -1, access: .execute, file: linker, stat: linkerStat) { nil }, .ldSo)
        // A start not seen: ld_so only when the executable is a runtime linker.
        XCTAssertEqual(starts.pattern(pid: 999_999, pidfd: -1, access: .open, file: data, stat: dataStat) {
            Array("/lib64/ld-linux-x86-64.so.2".utf8)
        }, .ldSo)
        XCTAssertNil(starts.pattern(pid: 999_998, pidfd: -1, access: .open, file: data, stat: dataStat) { Array("/bin/true".utf8) })
    }

    func testTheStatesOfExitedProcessesGoFirst() throws {
        let starts = StartPatterns(capacity: 4)
        let (program, st) = open("/bin/true")
        defer { close(program) }
        let me = getpid()
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .execute, file: program, stat: st) { nil }, .normal)
        for _ in 0..<6 {
            _ = starts.pattern(pid: exitedPid(), pidfd: -1, access: .execute, file: program, stat: st) { nil }
        }
        // Past the bound the exited ones were dropped; this process's start is kept.
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .open, file: program, stat: st) { nil }, .normal)
        XCTAssertLessThanOrEqual(starts.count, 4)
    }
}
