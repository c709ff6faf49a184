@testable import EventFacts
import XCTest

/// Objects kept a while past an answer (an execution's lease), on a thread that makes no descriptor.
final class ReleaseDelayTests: XCTestCase {
    /// Fulfils `released` when let go.
    final class Held: @unchecked Sendable {
        let released: XCTestExpectation
        init(_ released: XCTestExpectation) { self.released = released }
        deinit { released.fulfill() }
    }

    func testAnObjectIsLetGoNoSoonerThanTheDelayAndSoonAfter() {
        let delay = ReleaseDelay(delay: .milliseconds(50), label: "test.release-delay")
        let released = (0..<3).map { expectation(description: "object \($0) released") }
        let start = ContinuousClock.now
        for e in released { delay.hold(Held(e)) }
        XCTAssertEqual(delay.count, 3, "held at once")
        wait(for: released, timeout: 5, enforceOrder: true)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(50))
        XCTAssertEqual(delay.count, 0)
        // Held again after the thread had nothing to keep: it is woken for it.
        let again = expectation(description: "released after an idle spell")
        delay.hold(Held(again))
        wait(for: [again], timeout: 5)
    }
}
