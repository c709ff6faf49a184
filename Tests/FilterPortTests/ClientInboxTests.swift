import Dispatch
@testable import FilterPort
import Synchronization
import TestSupport
import XCTest

/// One client's inbox on its own: a delivery wakes a waiter or is left for a
/// thread at work, a wait ends at its deadline, closing wakes every waiter.
final class ClientInboxTests: XCTestCase {
    func testADeliveryBeforeTheWaitIsTakenAtOnce() {
        let inbox = ClientInbox<Int>(connectionId: 1, busy: BusyCPU())
        inbox.signal()
        XCTAssertTrue(inbox.wait(until: .now() + .seconds(5)))
    }

    func testAWaitWithoutADeliveryEndsAtItsDeadline() {
        let inbox = ClientInbox<Int>(connectionId: 1, busy: BusyCPU())
        let deadline = DispatchTime.now() + .milliseconds(20)
        XCTAssertFalse(inbox.wait(until: deadline))
        XCTAssertGreaterThanOrEqual(DispatchTime.now(), deadline)
    }

    func testClosingWakesASleepingWaiter() {
        let inbox = ClientInbox<Int>(connectionId: 1, busy: BusyCPU())
        let result = Mutex<Bool?>(nil)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let took = inbox.wait(until: .now() + .seconds(30))
            result.withLock { $0 = took }
            done.signal()
        }
        XCTAssertTrue(eventually { inbox.waitingThreads == 1 }, "it waits")
        inbox.close()
        XCTAssertEqual(done.wait(timeout: .now() + .seconds(5)), .success, "the waiter was woken")
        XCTAssertEqual(result.withLock { $0 }, false)
        XCTAssertTrue(inbox.isClosed)
    }

    func testADeliveryWakesASleeperEvenWhileAnotherThreadIsAtWork() {
        let inbox = ClientInbox<Int>(connectionId: 1, busy: BusyCPU())
        let woke = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            if inbox.wait(until: .now() + .seconds(10)) { woke.signal() }
        }
        XCTAssertTrue(eventually { inbox.waitingThreads == 1 }, "it waits")
        inbox.signal()  // no delivery is left for a thread at work: the waiting one wakes
        XCTAssertEqual(woke.wait(timeout: .now() + .seconds(5)), .success)
    }
}
