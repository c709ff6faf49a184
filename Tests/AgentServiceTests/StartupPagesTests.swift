@testable import AgentService
import Fanotify
import SystemCall
import XCTest

final class StartupPagesTests: XCTestCase {
    func testOnlyCleanReadOnlyPrivateFileMappingsAreUnmapped() {
        let smaps = """
            1000-3000 r-xp 00000000 fe:01 42      /usr/sbin/fanfilterd
            Size:                  8 kB
            Anonymous:             0 kB
            VmFlags: rd ex mr mw me
            3000-4000 r--p 00002000 fe:01 42      /usr/sbin/fanfilterd
            Anonymous:             4 kB
            4000-5000 rw-p 00003000 fe:01 42      /usr/sbin/fanfilterd
            Anonymous:             0 kB
            5000-6000 r--s 00000000 fe:01 43      /var/lib/fanfilter/trust.mdb
            Anonymous:             0 kB
            6000-7000 r--p 00000000 00:00 0
            Anonymous:             0 kB
            7000-8000 r--p 00000000 00:00 0       [vvar]
            Anonymous:             0 kB
            8000-a000 r--p 00000000 fe:01 44      /usr/lib/x86_64-linux-gnu/libc.so.6
            Anonymous:             0 kB
            a000-b000 r--p 00000000 fe:01 45      /tmp/a file with spaces (deleted)
            Anonymous:             0 kB
            b000-c000 r-xp 00000000 fe:01 46      /usr/lib/libnoanonymousline.so
            c000-d000 ---p 00000000 fe:01 46      /usr/lib/libnoanonymousline.so
            Anonymous:             0 kB

            """
        XCTAssertEqual(StartupPages.cleanMappings(in: Array(smaps.utf8)), [0x1000..<0x3000, 0x8000..<0xa000, 0xa000..<0xb000])
    }

    func testReleasingDropsFilePagesAndTheProcessRunsOn() throws {
        func fileKilobytes() throws -> Int {
            let status = String(decoding: try XCTUnwrap(WholeFile.read("/proc/self/status")), as: UTF8.self)
            let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
            return try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        }
        let before = try fileKilobytes()
        StartupPages.release()
        XCTAssertLessThan(try fileKilobytes(), before)
        // Relocated data (metadata, witness tables, string literals) is still what it was.
        let table: [String: any CustomStringConvertible] = ["one": 1, "two": 2.5]
        XCTAssertEqual(table.keys.sorted().map { "\($0)=\(table[$0]!)" }, ["one=1", "two=2.5"])
    }
}
