import Foundation
import Glibc
import TestSupport
import XCTest

/// `fanfilter import-fapolicyd` on this machine's own fapolicyd configuration
/// (Debian's package, installed by make test), with the sample rules as its
/// rules.d: what it prints passes `fanfilter check`.
final class ImportFapolicydCommandTests: XCTestCase {
    func testTheImportedPolicyPassesCheck() throws {
        let dir = NSTemporaryDirectory() + "fanfilter-import-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/fapolicyd/rules.d", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: "/etc/fapolicyd/fapolicyd.conf", toPath: dir + "/fapolicyd/fapolicyd.conf")
        for name in try FileManager.default.contentsOfDirectory(atPath: "/usr/share/fapolicyd/sample-rules") where name.hasSuffix(".rules") {
            try FileManager.default.copyItem(atPath: "/usr/share/fapolicyd/sample-rules/" + name, toPath: dir + "/fapolicyd/rules.d/" + name)
        }
        let imported = Child([fanfilterPath, "import-fapolicyd", dir + "/fapolicyd"]).wait()
        XCTAssertEqual(imported.status, 0, imported.output)
        XCTAssertTrue(imported.output.contains("rules_dir = \(dir)/fapolicyd/rules.d\n"), imported.output)
        XCTAssertTrue(imported.output.contains("mode = enforce\n"), imported.output)
        try imported.output.write(toFile: dir + "/policy", atomically: false, encoding: .utf8)
        chmod(dir + "/policy", 0o644)
        let checked = Child([fanfilterPath, "check", dir + "/policy"], mergeStderr: true).wait()
        XCTAssertEqual(checked.status, 0, checked.output)
        XCTAssertTrue(checked.output.contains(": ok: 32 rules"), checked.output)
    }
}
