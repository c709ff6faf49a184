@testable import FanFilter
import Dispatch
import Synchronization
import XCTest

/// The gate that bounds work done now and then, without the kernel and on a clock the test gives.
final class RateGateTests: XCTestCase {
    func testAtMostTheLimitPassEachSecond() {
        let gate = RateGate()
        let second: UInt64 = 1_000_000_000
        XCTAssertEqual((0..<5).map { gate.pass(limit: 3, now: 7 * second + UInt64($0)) }, [true, true, true, false, false])
        XCTAssertTrue(gate.pass(limit: 3, now: 8 * second), "a new second lets more through")
        XCTAssertEqual((0..<3).map { _ in gate.pass(limit: 3, now: 8 * second + 999_999_999) }, [true, true, false])
        XCTAssertFalse(RateGate().pass(limit: 0, now: second), "a limit of 0 lets none through")
    }

    func testManyThreadsTogetherPassNoMoreThanTheLimit() {
        let gate = RateGate()
        let passed = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 where gate.pass(limit: 100, now: 42_000_000_000) { passed.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(passed.load(ordering: .relaxed), 100)
    }
}
