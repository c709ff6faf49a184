import Foundation
import Glibc
import TestSupport
import XCTest

/// fanfilter beside the real fapolicyd (Debian's 1.1.7, which make test
/// installs with its service never started): the same sample rules, the same
/// trust file, the same accesses on a private tmpfs, compared access by
/// access (Tests/Differential/fapolicyd.sh).
final class FapolicydDifferentialTests: XCTestCase {
    func testTheSameRulesGiveTheSameDecisions() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root: run `sudo make test`") }
        XCTAssertEqual(access("/usr/sbin/fapolicyd", X_OK), 0, "make test installs fapolicyd")
        let r = runTestScript("Differential/fapolicyd.sh", [fanfilterPath], timeout: .seconds(240))
        XCTAssertTrue(r.output.contains(" 0 unexplained"), r.output)
    }
}
