import Dispatch
@testable import FilterPort
import Synchronization
import XCTest

/// The port's deadline timer on its own: what fires, in which order, and
/// that a cancelled or stopped deadline never does.
final class DeadlineTimerTests: XCTestCase {
    func testLiveDeadlinesFireInOrderAndCancelledOnesNever() {
        let fired = Mutex<[UInt64]>([])
        let all = DispatchSemaphore(value: 0)
        let timer = DeadlineTimer(name: "test.timer") { id in
            fired.withLock { $0.append(id) }
            all.signal()
        }
        defer { timer.stop() }
        let start = DispatchTime.now()
        for (id, ms) in [(3, 30), (1, 10), (4, 40), (2, 20), (5, 50)] as [(UInt64, Int)] {
            timer.schedule(id, at: start + .milliseconds(ms))
        }
        timer.cancel(2)
        timer.cancel(5)
        for _ in 0..<3 { XCTAssertEqual(all.wait(timeout: .now() + .seconds(5)), .success) }
        // The last scheduled deadline has passed by now; nothing more may fire.
        XCTAssertEqual(all.wait(timeout: start + .milliseconds(150)), .timedOut)
        XCTAssertEqual(fired.withLock { $0 }, [1, 3, 4])
    }

    func testAStoppedTimerFiresNothing() {
        let fired = Atomic<Int>(0)
        let timer = DeadlineTimer(name: "test.timer") { _ in fired.add(1, ordering: .relaxed) }
        timer.schedule(1, at: .now() + .milliseconds(20))
        timer.stop()
        usleep(60_000)  // past the deadline: it must not fire
        XCTAssertEqual(fired.load(ordering: .relaxed), 0)
    }

    func testAfterClampsNegativeAndHugeDurations() {
        XCTAssertLessThanOrEqual(DispatchTime.after(.seconds(-1)), .now())
        XCTAssertEqual(DispatchTime.after(.seconds(Int64.max)), .distantFuture)
    }
}
