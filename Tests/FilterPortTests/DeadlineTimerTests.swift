import Clocks
import Dispatch
@testable import FilterPort
import Synchronization
import TestSupport
import XCTest

/// The port's deadline timer on its own, on a clock the test advances: what
/// fires, in which order, and that a cancelled or stopped deadline never does.
final class DeadlineTimerTests: XCTestCase {
    final class Fired: Sendable {
        let ids = Mutex<[UInt64]>([])
        let each = DispatchSemaphore(value: 0)
        func record(_ id: UInt64) {
            ids.withLock { $0.append(id) }
            each.signal()
        }
        func waitFor(_ n: Int) -> Bool {
            (0..<n).allSatisfy { _ in each.wait(timeout: .now() + .seconds(5)) == .success }
        }
    }

    func testLiveDeadlinesFireInOrderWhenTheClockReachesThemAndCancelledOnesNever() {
        let clock = ManualClock()
        let fired = Fired()
        let timer = DeadlineTimer(name: "test.timer", clock: clock) { fired.record($0) }
        defer { timer.stop() }
        let start = clock.now()
        for (id, ms) in [(3, 30), (1, 10), (4, 40), (2, 20), (5, 50)] as [(UInt64, UInt64)] {
            timer.schedule(id, at: start + ms * 1_000_000)
        }
        timer.cancel(2)
        timer.cancel(5)
        clock.advance(by: .milliseconds(35))
        XCTAssertTrue(fired.waitFor(2))
        XCTAssertEqual(fired.ids.withLock { $0 }, [1, 3], "only what is due at 35 ms")
        clock.advance(by: .milliseconds(100))
        XCTAssertTrue(fired.waitFor(1))
        timer.stop()  // waits for the thread: nothing can fire after this
        XCTAssertEqual(fired.ids.withLock { $0 }, [1, 3, 4])
    }

    func testAStoppedTimerFiresNothing() {
        let clock = ManualClock()
        let fired = Fired()
        let timer = DeadlineTimer(name: "test.timer", clock: clock) { fired.record($0) }
        timer.schedule(1, at: clock.now() + 1)
        timer.stop()
        clock.advance(by: .seconds(1))
        XCTAssertEqual(fired.ids.withLock { $0 }, [])
    }

    func testDeadlinesSaturate() {
        let clock = ManualClock()
        XCTAssertEqual(clock.deadline(after: .seconds(-1)), clock.now())
        XCTAssertEqual(clock.deadline(after: .seconds(Int64.max)), .max)
        XCTAssertEqual(clock.deadline(after: .milliseconds(5)), clock.now() + 5_000_000)
    }
}
