import FilterPortClient
import Glibc
import XCTest

/// `AgentLoadFollower`: a decider thread goes to SCHED_BATCH when enough of
/// its recent messages say the agent's reader had more events waiting, back
/// when they stop, with hysteresis (no move for every message), and leaves a
/// thread it did not find in the normal class alone.
final class AgentLoadFollowerTests: XCTestCase {
    let batch = AgentLoadFollower.batchPolicy
    /// The policies a follower set, in order; each set succeeds unless `refuse`.
    final class Scheduler: @unchecked Sendable {
        var current: Int32 = SCHED_OTHER
        var refuse = false
        var moves: [Int32] = []

        func follower() -> AgentLoadFollower {
            AgentLoadFollower(currentPolicy: { self.current }, setPolicy: { policy in
                guard !self.refuse else { return false }
                self.moves.append(policy)
                self.current = policy
                return true
            })
        }
    }

    func note(_ follower: inout AgentLoadFollower, _ flags: [Bool]) {
        for flag in flags { follower.note(moreEventsWaiting: flag) }
    }

    func testOneOpenerNeverMovesTheThread() {
        let scheduler = Scheduler()
        var follower = scheduler.follower()
        note(&follower, Array(repeating: false, count: 1000))
        XCTAssertEqual(scheduler.moves, [])
        XCTAssertFalse(follower.inBatch)
    }

    func testAReaderBehindMovesItToBatchOnTheThirdFlagInARow() {
        let scheduler = Scheduler()
        var follower = scheduler.follower()
        note(&follower, [true, true])
        XCTAssertEqual(scheduler.moves, [], "two flags are not yet a quarter")
        note(&follower, [true])
        XCTAssertEqual(scheduler.moves, [batch])
        XCTAssertTrue(follower.inBatch)
    }

    func testItStaysInBatchWhileATypicalShareIsFlaggedAndLeavesWhenTheFlagsStop() {
        let scheduler = Scheduler()
        var follower = scheduler.follower()
        // Two openers: about a third of the events have another behind them in the same read.
        for _ in 0..<300 { note(&follower, [true, false, false]) }
        XCTAssertEqual(scheduler.moves, [batch])
        // One in six flagged keeps the average between the bounds (about 120 to 230 of 1024): no move either way.
        for _ in 0..<200 { note(&follower, [true, false, false, false, false, false]) }
        XCTAssertEqual(scheduler.moves, [batch], "hysteresis: no move for a share between the bounds")
        note(&follower, Array(repeating: false, count: 30))
        XCTAssertEqual(scheduler.moves, [batch, SCHED_OTHER])
        XCTAssertFalse(follower.inBatch)
        for _ in 0..<200 { note(&follower, [true, false, false, false, false, false]) }
        XCTAssertEqual(scheduler.moves, [batch, SCHED_OTHER], "nor from the normal class")
    }

    func testAThreadNotFoundInTheNormalClassIsLeftAlone() {
        for policy in [SCHED_FIFO, SCHED_RR, batch, 5 /* SCHED_IDLE */] {
            let scheduler = Scheduler()
            scheduler.current = policy
            var follower = scheduler.follower()
            note(&follower, Array(repeating: true, count: 100))
            XCTAssertEqual(scheduler.moves, [], "policy \(policy)")
        }
    }

    func testAMoveRefusedIsNotTriedAgain() {
        let scheduler = Scheduler()
        scheduler.refuse = true
        var follower = scheduler.follower()
        note(&follower, Array(repeating: true, count: 100))
        scheduler.refuse = false
        note(&follower, Array(repeating: true, count: 100))
        XCTAssertEqual(scheduler.moves, [])
        XCTAssertFalse(follower.inBatch)
    }

    func testTheCallingThreadReallyMovesWithoutPrivilege() {
        // SCHED_OTHER to SCHED_BATCH and back needs no capability (as root or not).
        let seen = onAThreadOfItsOwn { () -> [Int32] in
            var follower = AgentLoadFollower()
            var seen = [threadPolicy().0]
            for _ in 0..<10 { follower.note(moreEventsWaiting: true) }
            seen.append(threadPolicy().0)
            for _ in 0..<30 { follower.note(moreEventsWaiting: false) }
            seen.append(threadPolicy().0)
            return seen
        }
        XCTAssertEqual(seen, [SCHED_OTHER, batch, SCHED_OTHER])
        XCTAssertEqual(threadPolicy().0, SCHED_OTHER, "only the calling thread")
    }
}
