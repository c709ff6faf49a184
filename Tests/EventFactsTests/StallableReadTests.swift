import Dispatch
@testable import EventFacts
import XCTest

/// `StallableRead` without root: a read that never comes back costs its
/// caller no more than the wait it gives, and one user's stalled reads
/// leave room for everyone else's.
final class StallableReadTests: XCTestCase {
    func testAStalledReadIsLeftBehindAndOneUsersStallsLeaveOthersRoom() {
        let reads = StallableRead()
        let stall = DispatchSemaphore(value: 0)
        defer { for _ in 0..<StallableRead.perUser { stall.signal() } }
        XCTAssertEqual(reads.run(for: 0, within: .seconds(10)) { () -> Int in 42 }, 42, "a read that comes back")
        for _ in 0..<StallableRead.perUser {
            let stalled: Int? = reads.run(for: 1000, within: .milliseconds(1)) { stall.wait(); return 1 }
            XCTAssertNil(stalled, "left behind")
        }
        let refused: Int? = reads.run(for: 1000, within: .seconds(10)) { 7 }
        XCTAssertNil(refused, "uid 1000 has its reads outstanding: not even tried")
        XCTAssertEqual(reads.run(for: 0, within: .seconds(10)) { () -> Int in 8 }, 8, "root's read still runs")
    }
}
