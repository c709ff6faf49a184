@testable import EventFacts
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
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .execute, event: 1, file: program, stat: programStat) { nil }, .known(.normal))
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .execute, event: 2, file: linker, stat: linkerStat) { nil }, .known(.normal))
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .open, event: 3, file: data, stat: dataStat) { nil }, .known(.normal))
        // The linker named as the command: ld_so.
        let other = exitedPid()
        XCTAssertEqual(starts.pattern(pid: other, pidfd: -1, access: .execute, event: 4, file: linker, stat: linkerStat) { nil }, .known(.ldSo))
        // A start not seen: ld_so only when the executable is a runtime linker.
        XCTAssertEqual(starts.pattern(pid: 999_999, pidfd: -1, access: .open, event: 5, file: data, stat: dataStat) {
            (UInt64(linkerStat.st_dev), UInt64(linkerStat.st_ino))
        }, .known(.ldSo))
        XCTAssertEqual(starts.pattern(pid: 999_998, pidfd: -1, access: .open, event: 6, file: data, stat: dataStat) {
            (UInt64(programStat.st_dev), UInt64(programStat.st_ino))
        }, .known([]), "none of them, known")
        XCTAssertEqual(starts.pattern(pid: 999_997, pidfd: -1, access: .open, event: 7, file: data, stat: dataStat) { nil },
                       .known(nil), "no executable to look at: not known")
        // The same execution event taken twice (a decision tried again) moves the state on once.
        let third = exitedPid()
        XCTAssertEqual(starts.pattern(pid: third, pidfd: -1, access: .execute, event: 7, file: program, stat: programStat) { nil }, .known(.normal))
        XCTAssertEqual(starts.pattern(pid: third, pidfd: -1, access: .execute, event: 8, file: linker, stat: linkerStat) { nil }, .known(.normal))
        XCTAssertEqual(starts.pattern(pid: third, pidfd: -1, access: .execute, event: 8, file: linker, stat: linkerStat) { nil }, .known(.normal))
        // After an execution, the first opens look at the environment (a read): only when a rule asks.
        let (library, libraryStat) = open("/etc/hostname")
        defer { close(library) }
        let fourth = exitedPid()
        _ = starts.pattern(pid: fourth, pidfd: -1, access: .execute, event: 10, file: program, stat: programStat) { nil }
        XCTAssertEqual(starts.pattern(pid: fourth, pidfd: -1, access: .open, event: 11, file: library, stat: libraryStat,
                                      mayRead: false) { nil }, .needsRead)
        XCTAssertEqual(starts.pattern(pid: fourth, pidfd: -1, access: .open, event: 11, file: library, stat: libraryStat,
                                      mayRead: false, preload: false) { nil }, .known(.normal))
        // Without reads, a program's headers not seen before are not read.
        let fresh = StartPatterns()
        XCTAssertEqual(fresh.pattern(pid: third, pidfd: -1, access: .execute, event: 9, file: program, stat: programStat,
                                     mayRead: false) { nil }, .needsRead)
    }

    func testTheStatesOfExitedProcessesGoFirst() throws {
        let starts = StartPatterns(capacity: 4)
        let (program, st) = open("/bin/true")
        defer { close(program) }
        let me = getpid()
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .execute, event: 1, file: program, stat: st) { nil }, .known(.normal))
        for n in 0..<6 {
            _ = starts.pattern(pid: exitedPid(), pidfd: -1, access: .execute, event: UInt64(2 + n), file: program, stat: st) { nil }
        }
        // Past the bound the exited ones were dropped; this process's start is kept.
        XCTAssertEqual(starts.pattern(pid: me, pidfd: -1, access: .open, event: 20, file: program, stat: st) { nil }, .known(.normal))
        XCTAssertLessThanOrEqual(starts.count, 4)
    }
}
