import Foundation
import Glibc
import TestSupport
import XCTest

/// The installed service under a real systemd: Tests/Systemd/integration.sh
/// boots systemd as PID 1 of a private pid+mount namespace over an overlay of
/// / and checks start, STATUS, denials, journal fields and catalog, reload,
/// the journal-deadlock scenario, the watchdog restart and stop under load.
final class SystemdIntegrationTests: XCTestCase {
    func testTheServiceUnderARealSystemd() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root: run `sudo make test`") }
        guard access("/lib/systemd/systemd", X_OK) == 0 else { throw XCTSkip("needs systemd installed (apt-get install systemd)") }
        let r = runTestScript("Systemd/integration.sh", [fanfilterPath], timeout: .seconds(300))
        XCTAssertTrue(r.output.contains(", 0 failed"), r.output)
    }
}
