import Clocks
import FilterPort
import TestSupport
import XCTest

/// When a waiting thread spins before it sleeps: on a clock the test moves,
/// arrival by arrival.
final class ArrivalGapTests: XCTestCase {
    func testCloseArrivalsEarnASpinOfTwiceTheGapAndSparseOnesNone() {
        let clock = ManualClock()
        let gap = ArrivalGap(clock: clock, busy: BusyCPU(clock: clock))
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

    /// A gap on a manual clock after 64 arrivals 40 µs apart: it spins 80 µs.
    private func arrivalsEvery40Microseconds() -> (ManualClock, BusyCPU, ArrivalGap) {
        let clock = ManualClock()
        let busy = BusyCPU(clock: clock)
        let gap = ArrivalGap(clock: clock, busy: busy)
        for _ in 0..<64 {
            clock.advance(by: .microseconds(40))
            gap.arrived()
        }
        XCTAssertEqual(gap.spinBudget, 80_000)
        return (clock, busy, gap)
    }

    func testTwoTimeSlicesGivenAwayWithinTheWindowStopSpinningWhateverCameBetween() {
        let (clock, busy, gap) = arrivalsEvery40Microseconds()
        busy.noteYield(from: clock.now(), to: clock.now() + 5_000)
        XCTAssertEqual(gap.spinBudget, 80_000, "a yield of 5 µs: another thread did a little work")
        for _ in 0..<3 {
            clock.advance(by: .milliseconds(1))
            busy.noteYield(from: clock.now(), to: clock.now() + 200_000)
        }
        XCTAssertTrue(busy.spinningPays, "yields of 200 µs: the host took the virtual CPU for a moment, no time slice")
        clock.advance(by: .milliseconds(1))
        busy.noteYield(from: clock.now(), to: clock.now() + 2_000_000)
        XCTAssertTrue(busy.spinningPays, "one time slice given away: a moment's neighbour, not yet a busy CPU")
        clock.advance(by: .milliseconds(30))
        for _ in 0..<100 { busy.noteYield(from: clock.now(), to: clock.now() + 5_000) }  // a client's turns between
        busy.noteYield(from: clock.now(), to: clock.now() + 2_000_000)
        XCTAssertFalse(busy.spinningPays, "two slices within 50 ms, quick yields or not between them: a CPU-bound neighbour")
        XCTAssertEqual(gap.spinBudget, 0, "busy: sleep at once")
        clock.advance(by: .milliseconds(101))
        XCTAssertEqual(gap.spinBudget, 0, "the back-off runs from the yield's end (2 ms after it began)")
        clock.advance(by: .milliseconds(1))
        XCTAssertEqual(gap.spinBudget, 80_000, "after the back-off the next spin finds out again")
        clock.advance(by: .milliseconds(60))
        busy.noteYield(from: clock.now(), to: clock.now() + 2_000_000)
        XCTAssertTrue(busy.spinningPays, "slices further apart than the window: not busy")
    }

    func testSpinningNotAllowedNeverSpins() {
        let (_, busy, gap) = arrivalsEvery40Microseconds()
        busy.allowSpinning(false)
        XCTAssertEqual(gap.spinBudget, 0, "spin = off")
        busy.allowSpinning(true)
        XCTAssertEqual(gap.spinBudget, 80_000)
    }
}
