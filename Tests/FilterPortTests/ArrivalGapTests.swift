import Clocks
import FilterPort
import TestSupport
import XCTest

/// When a waiting thread spins before it sleeps: on a clock the test moves,
/// arrival by arrival.
final class ArrivalGapTests: XCTestCase {
    func testCloseArrivalsEarnASpinOfTwiceTheGapAndSparseOnesNone() {
        let clock = ManualClock()
        let gap = ArrivalGap(clock: clock)
        XCTAssertEqual(gap.spinBudget, 0, "nothing arrived yet: sleep at once")
        gap.arrived()
        XCTAssertEqual(gap.spinBudget, 0, "one arrival is no rhythm")
        for _ in 0..<64 {
            clock.advance(by: .microseconds(40))
            gap.arrived()
        }
        XCTAssertEqual(gap.spinBudget, 80_000, "twice the usual 40 µs gap")
        for _ in 0..<64 {
            clock.advance(by: .microseconds(150))
            gap.arrived()
        }
        XCTAssertEqual(gap.spinBudget, ArrivalGap.maxSpin, "never more than maxSpin")
        for _ in 0..<64 {
            clock.advance(by: .milliseconds(5))
            gap.arrived()
        }
        XCTAssertEqual(gap.spinBudget, 0, "arrivals far apart: no spin")
    }
}
