import Dispatch
import FilterPortClient
import Foundation
import Glibc
import XCTest

/// `FilterPortClient.runThisThreadInRealTime`: the calling thread, and only
/// it, becomes SCHED_FIFO at the priority asked; what cannot be done is an
/// error that says why and what would allow it.
final class RealTimeThreadTests: XCTestCase {
    /// Runs `body` on a thread of its own (which ends after it, taking its
    /// scheduling class with it) and returns what it gave.
    func onAThreadOfItsOwn<T>(_ body: @escaping @Sendable () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Thread {
            box.value = body()
            done.signal()
        }.start()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        return box.value!
    }

    static func policy() -> (Int32, Int32) {
        var policy: Int32 = 0
        var parameters = sched_param()
        pthread_getschedparam(pthread_self(), &policy, &parameters)
        return (policy, parameters.sched_priority)
    }

    func testTheCallingThreadRunsFirstInFirstOutAtThePriorityAsked() throws {
        try XCTSkipUnless(geteuid() == 0, "needs CAP_SYS_NICE (make test runs as root)")
        let (before, after) = onAThreadOfItsOwn { () -> ((Int32, Int32), (Int32, Int32)) in
            let before = Self.policy()
            do { try FilterPortClient.runThisThreadInRealTime(priority: 3) } catch { return (before, (-1, -1)) }
            return (before, Self.policy())
        }
        XCTAssertEqual(before.0, SCHED_OTHER)
        XCTAssertEqual(after.0, SCHED_FIFO)
        XCTAssertEqual(after.1, 3)
        XCTAssertEqual(Self.policy().0, SCHED_OTHER, "only the calling thread")
    }

    func testAnImpossiblePriorityIsAnErrorThatSaysWhy() {
        let message = onAThreadOfItsOwn { () -> String in
            do { try FilterPortClient.runThisThreadInRealTime(priority: 0) } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertEqual(message, "cannot run this thread SCHED_FIFO at priority 0: Invalid argument (a real-time priority is 1 to 99)")
    }
}

/// What a thread of its own gave back (written before its semaphore is signalled, read after).
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
