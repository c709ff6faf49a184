@testable import EventFacts
import XCTest

/// Each user's share of a busy queue, without the kernel.
final class UserShareTests: XCTestCase {
    func testAUserGetsNoMoreThanItsBoundAndAnAnswerMakesRoom() {
        let share = UserShare()
        XCTAssertEqual((0..<5).map { _ in share.admit(1000, bound: 3) }, [true, true, true, false, false])
        XCTAssertEqual(share.count(of: 1000), 3, "a refused event is not counted")
        XCTAssertTrue(share.admit(0, bound: 3), "another user has a share of its own")
        share.release(1000)
        XCTAssertEqual(share.count(of: 1000), 2)
        XCTAssertTrue(share.admit(1000, bound: 3))
        XCTAssertFalse(share.admit(1000, bound: 3))
    }

    func testEveryReleaseMatchesAnAdmitAndNothingIsLeftOver() {
        let share = UserShare()
        let admitted = (0..<4).filter { _ in share.admit(7, bound: 2) }.count
        for _ in 0..<admitted { share.release(7) }
        XCTAssertEqual(share.count(of: 7), 0)
        share.release(7)  // a release with nothing counted changes nothing
        XCTAssertEqual(share.count(of: 7), 0)
        XCTAssertTrue(share.admit(7, bound: 1))
    }
}
