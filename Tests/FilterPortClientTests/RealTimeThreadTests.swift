import FilterPortClient
import Glibc
import XCTest

/// `FilterPortClient.runThisThreadInRealTime`: the calling thread, and only
/// it, becomes SCHED_FIFO at the priority asked; what cannot be done is an
/// error that says why and what would allow it.
final class RealTimeThreadTests: XCTestCase {
    func testTheCallingThreadRunsFirstInFirstOutAtThePriorityAsked() throws {
        try XCTSkipUnless(geteuid() == 0, "needs CAP_SYS_NICE (make test runs as root)")
        let (before, after) = onAThreadOfItsOwn { () -> ((Int32, Int32), (Int32, Int32)) in
            let before = threadPolicy()
            do { try FilterPortClient.runThisThreadInRealTime(priority: 3) } catch { return (before, (-1, -1)) }
            return (before, threadPolicy())
        }
        XCTAssertEqual(before.0, SCHED_OTHER)
        XCTAssertEqual(after.0, SCHED_FIFO)
        XCTAssertEqual(after.1, 3)
        XCTAssertEqual(threadPolicy().0, SCHED_OTHER, "only the calling thread")
    }

    func testAnImpossiblePriorityIsAnErrorThatSaysWhy() {
        let message = onAThreadOfItsOwn { () -> String in
            do { try FilterPortClient.runThisThreadInRealTime(priority: 0) } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertEqual(message, "cannot run this thread SCHED_FIFO at priority 0: Invalid argument (a real-time priority is 1 to 99)")
    }
}
