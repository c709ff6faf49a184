import Foundation
import Glibc
import TestSupport
import XCTest

/// The Debian package `make package` builds (make test does, before the
/// tests), installed, started and purged under a real systemd:
/// Tests/Systemd/package.sh.
final class DebianPackageTests: XCTestCase {
    func testThePackageInstallsEnabledStartsAndPurgesCleanly() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root: run `sudo make test`") }
        guard access("/lib/systemd/systemd", X_OK) == 0 else { throw XCTSkip("needs systemd installed (apt-get install systemd)") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
        let debs = (try? FileManager.default.contentsOfDirectory(atPath: root + "/.build/deb")) ?? []
        guard let deb = debs.first(where: { $0.hasPrefix("fanfilter_") && $0.hasSuffix(".deb") }) else {
            throw XCTSkip("no package in .build/deb: make test builds it (make package)")
        }
        let r = runTestScript("Systemd/package.sh", [root + "/.build/deb/" + deb], timeout: .seconds(900))
        XCTAssertTrue(r.output.contains("debian-package: ") && r.output.contains(", 0 failed"), r.output)
    }
}
