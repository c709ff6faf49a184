import Clocks
import Dispatch
import FilterPort
import Synchronization
import TestSupport
import XCTest

typealias BytesPort = FilterPort<[UInt8], [UInt8]>

/// Collects the outcomes of asynchronous sends, by message id.
final class Outcomes: Sendable {
    private let byId = Mutex<[UInt64: SendOutcome<[UInt8]>]>([:])
    private let arrived = DispatchSemaphore(value: 0)

    var handler: BytesPort.OutcomeHandler {
        { header, _, outcome in
            let first = self.byId.withLock { $0.updateValue(outcome, forKey: header.messageId) == nil }
            precondition(first, "two outcomes for message \(header.messageId)")
            self.arrived.signal()
        }
    }

    func wait(_ count: Int = 1, seconds: Double = 5) -> Bool {
        for _ in 0..<count where arrived.wait(timeout: .now() + seconds) == .timedOut { return false }
        return true
    }

    subscript(id: UInt64) -> SendOutcome<[UInt8]>? { byId.withLock { $0[id] } }
    var count: Int { byId.withLock { $0.count } }
}

func elapsed(_ body: () throws -> Void) rethrows -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    return clock.now - start
}

final class FilterPortTests: XCTestCase {
    func makePort(max: Int = 1, backlog: Int = 64) -> BytesPort {
        BytesPort(name: "test", maxConnections: max, backlogCapacity: backlog)
    }

    // MARK: connect / disconnect

    func testAClientKeepsItsContextAndItsOwnId() throws {
        let port = makePort(max: 2)
        let first = try port.connect(context: [1, 2, 3])
        let second = try port.connect()
        XCTAssertEqual(first.info.context, [1, 2, 3])
        XCTAssertEqual(second.info.context, [])
        XCTAssertNotEqual(first.info.id, second.info.id)
        XCTAssertEqual(port.connectionCount, 2)
    }

    func testMaxConnectionsIsEnforced() throws {
        let port = makePort(max: 1)
        let first = try port.connect()
        XCTAssertThrowsError(try port.connect()) { XCTAssertEqual($0 as? PortError, .tooManyConnections(max: 1)) }
        first.disconnect()
        XCTAssertNoThrow(try port.connect())
    }

    func testDisconnectIsIdempotentAndCloseKeepsExistingClients() throws {
        let port = makePort(max: 2)
        let client = try port.connect()
        port.close()
        XCTAssertThrowsError(try port.connect()) { XCTAssertEqual($0 as? PortError, .portClosed) }
        try client.prime()
        let outcomes = Outcomes()
        let id = port.send([7], replyCapacity: 8, timeout: .seconds(5), onOutcome: outcomes.handler)
        XCTAssertEqual(try client.getMessage(timeout: .seconds(1))?.header.messageId, id, "an existing client still gets messages")
        client.disconnect()
        client.disconnect()
        XCTAssertEqual(port.connectionCount, 0, "gone once")
        XCTAssertThrowsError(try client.prime()) { XCTAssertEqual($0 as? PortError, .disconnected) }
    }

    // MARK: send outcomes

    func testSendWithoutClientIsNoClient() {
        let port = makePort()
        guard case .noClient = port.sendAndWait([1], replyCapacity: 1, timeout: .seconds(1)) else {
            return XCTFail("expected noClient")
        }
    }

    func testReplyReachesSenderWithStatusAndPayload() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime()
        DispatchQueue.global().async {
            guard let m = try? client.getMessage(timeout: .seconds(5)) else { return }
            XCTAssertEqual(m.payload, [1, 2, 3])
            XCTAssertEqual(m.header.replyLength, 16)
            try? client.reply(m.header.messageId, status: 42, [9, 9])
        }
        guard case .replied(let header, let reply) = port.sendAndWait([1, 2, 3], replyCapacity: 16, timeout: .seconds(5)) else {
            return XCTFail("expected a reply")
        }
        XCTAssertEqual(header.status, 42)
        XCTAssertEqual(reply, [9, 9])
    }

    func testMessageIdsAreUniqueAndIncreasing() throws {
        let port = makePort(backlog: 1000)
        let client = try port.connect()
        let outcomes = Outcomes()
        let ids = (0..<100).map { _ in port.send([0], replyCapacity: 0, timeout: .seconds(5), onOutcome: outcomes.handler) }
        XCTAssertEqual(ids, ids.sorted())
        XCTAssertEqual(Set(ids).count, 100)
        try client.prime(100)
        var got: [UInt64] = []
        while let m = try client.getMessage(timeout: .milliseconds(100)) { got.append(m.header.messageId) }
        XCTAssertEqual(got, ids, "delivered oldest first")
    }

    func testUndeliveredMessageTimesOutAsNotDelivered() throws {
        let port = makePort()
        let client = try port.connect() // connected, but no get primed
        var outcome: SendOutcome<[UInt8]>?
        let took = elapsed { outcome = port.sendAndWait([1], replyCapacity: 1, timeout: .milliseconds(100)) }
        guard case .timedOut(delivered: false) = outcome else { return XCTFail("expected an undelivered timeout, got \(String(describing: outcome))") }
        XCTAssertGreaterThanOrEqual(took, .milliseconds(100))
        XCTAssertLessThan(took, .milliseconds(600))
        // The get primed later finds nothing: the message went with its timeout.
        try client.prime()
        XCTAssertNil(try client.getMessage(timeout: .milliseconds(50)))
        XCTAssertEqual(port.unansweredCount, 0)
    }

    func testDeliveredButUnansweredTimesOutAndLateReplyHasNoWaiter() throws {
        // On a clock the test moves: the timeout falls due when the clock reaches it, without a sleep.
        let clock = ManualClock()
        let port = BytesPort(name: "test", maxConnections: 1, backlogCapacity: 64, clock: clock)
        let client = try port.connect()
        try client.prime()
        let outcomes = Outcomes()
        let id = port.send([1], replyCapacity: 4, timeout: .milliseconds(100), onOutcome: outcomes.handler)
        let message = try XCTUnwrap(client.getMessage(timeout: .seconds(1)))
        XCTAssertEqual(outcomes.count, 0, "the clock has not moved")
        clock.advance(by: .milliseconds(100))
        XCTAssertTrue(outcomes.wait())
        guard case .timedOut(delivered: true) = outcomes[id] else { return XCTFail("expected a delivered timeout") }
        XCTAssertThrowsError(try client.reply(message.header.messageId, [1])) {
            XCTAssertEqual($0 as? PortError, .noWaiterForReply(messageId: id))
        }
        XCTAssertEqual(outcomes.count, 1, "a late reply changes nothing")
    }

    func testTimeoutsStillFireAfterAStreamOfAnsweredMessages() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime()
        // Answered at once: their deadlines are cancelled and never fire.
        for n in 0..<2000 {
            let outcomes = Outcomes()
            let id = port.send([UInt8(n & 0xFF)], replyCapacity: 1, timeout: .milliseconds(150), onOutcome: outcomes.handler)
            let message = try XCTUnwrap(client.getMessage(timeout: .seconds(1)))
            try client.reply(message.header.messageId, [1])
            try client.prime()
            guard case .replied = outcomes[id] else { return XCTFail("message \(n) was not answered by its reply") }
        }
        // A shorter timeout than the idle interval the timer sleeps still fires on time.
        let outcomes = Outcomes()
        let took = elapsed {
            let id = port.send([9], replyCapacity: 1, timeout: .milliseconds(40), onOutcome: outcomes.handler)
            XCTAssertTrue(outcomes.wait())
            guard case .timedOut(delivered: true) = outcomes[id] else { return XCTFail("expected a timeout") }
        }
        XCTAssertGreaterThanOrEqual(took, .milliseconds(40))
        XCTAssertLessThan(took, .milliseconds(500))
    }

    func testSecondAndUnknownRepliesHaveNoWaiter() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime()
        let outcomes = Outcomes()
        let id = port.send([1], replyCapacity: 4, timeout: .seconds(5), onOutcome: outcomes.handler)
        _ = try client.getMessage(timeout: .seconds(1))
        try client.reply(id, [1])
        XCTAssertThrowsError(try client.reply(id, [2])) { XCTAssertEqual($0 as? PortError, .noWaiterForReply(messageId: id)) }
        XCTAssertThrowsError(try client.reply(999_999, [2])) { XCTAssertEqual($0 as? PortError, .noWaiterForReply(messageId: 999_999)) }
        XCTAssertTrue(outcomes.wait())
        guard case .replied(_, [1]) = outcomes[id] else { return XCTFail("the first reply stands") }
    }

    func testReplyToAnotherClientsMessageHasNoWaiter() throws {
        let port = makePort(max: 2)
        let a = try port.connect(), b = try port.connect()
        try a.prime()
        let outcomes = Outcomes()
        let id = port.send([1], replyCapacity: 4, timeout: .seconds(5), onOutcome: outcomes.handler)
        XCTAssertThrowsError(try b.reply(id, [1])) { XCTAssertEqual($0 as? PortError, .noWaiterForReply(messageId: id)) }
        _ = try a.getMessage(timeout: .seconds(1))
        try a.reply(id, [1])
        XCTAssertTrue(outcomes.wait())
    }

    func testReplyLargerThanCapacityIsReplyTooLarge() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime()
        let outcomes = Outcomes()
        let id = port.send([1], replyCapacity: 2, timeout: .seconds(5), onOutcome: outcomes.handler)
        _ = try client.getMessage(timeout: .seconds(1))
        try client.reply(id, [1, 2, 3])
        XCTAssertTrue(outcomes.wait())
        guard case .replyTooLarge(byteCount: 3, capacity: 2) = outcomes[id] else { return XCTFail("expected replyTooLarge") }
    }

    func testBacklogFullAnswersAtOnce() throws {
        let port = makePort(backlog: 2)
        let client = try port.connect()
        let outcomes = Outcomes()
        port.send([1], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        port.send([2], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        let third = port.send([3], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        guard case .backlogFull = outcomes[third] else { return XCTFail("expected backlogFull at once") }
        client.disconnect()
        XCTAssertTrue(outcomes.wait(3))
    }

    /// `serves`: a message goes only to a client that serves it (context "even"
    /// serves even first bytes, "odd" odd ones), whatever gets others primed;
    /// with no connected client serving it, it ends `.noClient` at once, even
    /// when the backlog is full.
    func testAMessageGoesOnlyToAClientThatServesIt() throws {
        let port = BytesPort(name: "test", maxConnections: 2, backlogCapacity: 2, serves: { info, message in
            (message[0] % 2 == 0) == (info.context == Array("even".utf8))
        })
        let even = try port.connect(context: Array("even".utf8))
        let outcomes = Outcomes()
        try even.prime(2)
        let odd = port.send([1], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        guard case .noClient = outcomes[odd] else { return XCTFail("no one serves it, though gets are primed: \(String(describing: outcomes[odd]))") }
        let first = port.send([2], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        XCTAssertEqual(try even.getMessage(timeout: .seconds(5))?.header.messageId, first)
        port.send([4], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        // The backlog is full: for a message someone serves that is backlogFull, for one no one serves still noClient.
        let full = port.send([6], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        guard case .backlogFull = outcomes[full] else { return XCTFail("\(String(describing: outcomes[full]))") }
        let unserved = port.send([3], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        guard case .noClient = outcomes[unserved] else { return XCTFail("\(String(describing: outcomes[unserved]))") }
        try even.reply(first, [0])
        // An odd client primed after an odd message waits: it takes it, and the even one never sees it.
        let oddClient = try port.connect(context: Array("odd".utf8))
        let waiting = port.send([5], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        try oddClient.prime()
        XCTAssertEqual(try oddClient.getMessage(timeout: .seconds(5))?.header.messageId, waiting)
        even.disconnect()
        oddClient.disconnect()
        XCTAssertTrue(outcomes.wait(6))
        XCTAssertEqual(outcomes.count, 6)
    }

    /// `lanes`: a message goes only to a client of its lane (first byte 0 or
    /// 1), whatever gets the other lane primed; a lane with no client ends its
    /// message `.noClient` at once; a message waiting in a lane is taken by
    /// the next get primed in that lane, and ends `.noClient` when the lane's
    /// last client leaves, while the other lane's go on.
    func testAMessageGoesOnlyToAClientOfItsLane() throws {
        let port = BytesPort(name: "test", maxConnections: 3, backlogCapacity: 8, lanes: 2, lane: { Int($0[0]) })
        let outcomes = Outcomes()
        let first = try port.connect(lane: 0)
        try first.prime(4)
        let alone = port.send([1], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        guard case .noClient = outcomes[alone] else { return XCTFail("lane 1 has no client: \(String(describing: outcomes[alone]))") }
        let second = try port.connect(lane: 1)
        let waiting = port.send([1, 7], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        XCTAssertNil(try first.tryGetMessage(), "lane 0's gets never take lane 1's message")
        let zero = port.send([0], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        XCTAssertEqual(try first.getMessage(timeout: .seconds(5))?.header.messageId, zero)
        try second.prime()
        let taken = try XCTUnwrap(try second.getMessage(timeout: .seconds(5)))
        XCTAssertEqual(taken.header.messageId, waiting)
        XCTAssertEqual(taken.payload, [1, 7])
        try second.reply(waiting, [9])
        guard case .replied(_, let reply)? = outcomes[waiting] else { return XCTFail("\(String(describing: outcomes[waiting]))") }
        XCTAssertEqual(reply, [9])
        // Lane 1's last client leaves: its waiting message ends noClient, lane 0's stays.
        let orphan = port.send([1], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        let kept = port.send([0], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        second.disconnect()
        guard case .noClient = outcomes[orphan] else { return XCTFail("\(String(describing: outcomes[orphan]))") }
        XCTAssertNil(outcomes[kept])
        try first.reply(zero, [0])
        XCTAssertEqual(try first.getMessage(timeout: .seconds(5))?.header.messageId, kept)
        try first.reply(kept, [0])
        XCTAssertEqual(outcomes.count, 5)
    }

    // MARK: priming and ordering

    func testPrimedGetsBoundDeliveryAndCompletionsMayComeInAnyOrder() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime(2)
        let outcomes = Outcomes()
        let ids = (1...3).map { port.send([UInt8($0)], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler) }
        let m1 = try XCTUnwrap(client.getMessage(timeout: .seconds(1)))
        let m2 = try XCTUnwrap(client.getMessage(timeout: .seconds(1)))
        XCTAssertNil(try client.getMessage(timeout: .milliseconds(50)), "two gets primed: the third message waits")
        try client.reply(m2.header.messageId, [2])
        try client.reply(m1.header.messageId, [1])
        try client.prime()
        let m3 = try XCTUnwrap(client.getMessage(timeout: .seconds(1)))
        XCTAssertEqual(m3.header.messageId, ids[2])
        try client.reply(m3.header.messageId, [3])
        XCTAssertTrue(outcomes.wait(3))
        for (n, id) in ids.enumerated() {
            guard case .replied(_, let r) = outcomes[id], r == [UInt8(n + 1)] else { return XCTFail("message \(n + 1)") }
        }
    }

    func testMessageSettledInTheInboxIsSkippedAndItsGetPrimedAgain() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime()
        let outcomes = Outcomes()
        port.send([1], replyCapacity: 1, timeout: .milliseconds(20), onOutcome: outcomes.handler)
        XCTAssertTrue(outcomes.wait())
        let second = port.send([2], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler)
        let m = try XCTUnwrap(client.getMessage(timeout: .seconds(1)))
        XCTAssertEqual(m.header.messageId, second)
        try client.reply(second, [0])
    }

    // MARK: disconnect fails pending messages at once

    func testDisconnectFailsDeliveredMessagesAtOnce() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) {
            _ = try? client.getMessage(timeout: .seconds(1))
            client.disconnect()
        }
        var outcome: SendOutcome<[UInt8]>?
        let took = elapsed { outcome = port.sendAndWait([1], replyCapacity: 1, timeout: .seconds(10)) }
        guard case .disconnected = outcome else { return XCTFail("expected disconnected") }
        XCTAssertLessThan(took, .seconds(2), "the sender does not wait for its timeout")
    }

    /// A client that leaves with a message past its deadline (the port's
    /// timer not run yet): that one ends timed out, as it would have a moment
    /// later, the one still in time disconnected. Before, both ended
    /// disconnected or not depending on which thread ran first.
    func testADisconnectEndsAMessagePastItsDeadlineTimedOut() throws {
        let clock = ManualClock()
        let port = BytesPort(name: "test", maxConnections: 1, backlogCapacity: 8, clock: clock)
        let client = try port.connect()
        try client.prime(2)
        let outcomes = Outcomes()
        let due = port.send([1], replyCapacity: 1, timeout: .seconds(1), onOutcome: outcomes.handler)
        let inTime = port.send([2], replyCapacity: 1, timeout: .seconds(10), onOutcome: outcomes.handler)
        clock.advanceUnseen(by: .seconds(2))
        client.disconnect()
        XCTAssertTrue(outcomes.wait(2))
        guard case .timedOut(delivered: true) = outcomes[due] else { return XCTFail("\(String(describing: outcomes[due]))") }
        guard case .disconnected = outcomes[inTime] else { return XCTFail("\(String(describing: outcomes[inTime]))") }
    }

    func testLastDisconnectFailsUndeliveredMessagesAsNoClient() throws {
        let port = makePort()
        let client = try port.connect()
        let outcomes = Outcomes()
        let id = port.send([1], replyCapacity: 1, timeout: .seconds(10), onOutcome: outcomes.handler)
        client.disconnect()
        XCTAssertTrue(outcomes.wait(seconds: 1))
        guard case .noClient = outcomes[id] else { return XCTFail("expected noClient") }
    }

    func testDisconnectWakesEveryWaitingGet() throws {
        let port = makePort()
        let client = try port.connect()
        try client.prime(4)
        let woke = DispatchSemaphore(value: 0)
        for _ in 0..<4 {
            DispatchQueue.global().async {
                do { _ = try client.getMessage() } catch { if error as? PortError == .disconnected { woke.signal() } }
            }
        }
        XCTAssertTrue(eventually { client.waitingThreads == 4 }, "all four wait")
        client.disconnect()
        for _ in 0..<4 { XCTAssertEqual(woke.wait(timeout: .now() + 2), .success) }
    }

    // MARK: exactly one outcome under concurrency

    func testASendersOwnMessageIsTakenByItAndStillEndsExactlyOnce() throws {
        // On a clock the test moves: the deadline of a message the sender took falls due without a sleep.
        let clock = ManualClock()
        let port = BytesPort(name: "test", maxConnections: 2, backlogCapacity: 8, clock: clock)
        let client = try port.connect()
        let other = try port.connect()
        let outcomes = Outcomes()

        // No primed get: the message waits in the backlog, as any send's, and is not handed back.
        XCTAssertNil(client.sendAndTake([1], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler))
        try client.prime()
        let waited = try XCTUnwrap(client.tryGetMessage(), "the new get took the waiting message")
        try client.reply(waited.header.messageId, [1])

        // A get of the sender's client, no thread spinning: the sender holds the message, nothing is in the inbox.
        try client.prime()
        let taken = try XCTUnwrap(client.sendAndTake([2], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler))
        XCTAssertEqual(taken.payload, [2])
        XCTAssertNil(try client.tryGetMessage(), "taken, not delivered to the inbox")
        XCTAssertEqual(port.unansweredCount(of: client.info.id), 1, "it is the client's, unanswered")
        try client.reply(taken.header.messageId, [3])
        guard case .replied(_, let reply) = outcomes[taken.header.messageId] else { return XCTFail("answered by its reply") }
        XCTAssertEqual(reply, [3])
        XCTAssertThrowsError(try client.reply(taken.header.messageId, [4])) {
            XCTAssertEqual($0 as? PortError, .noWaiterForReply(messageId: taken.header.messageId))
        }

        // Taken and never answered: its deadline ends it, once, and a late reply has no waiter.
        try client.prime()
        let dropped = try XCTUnwrap(client.sendAndTake([5], replyCapacity: 1, timeout: .milliseconds(100), onOutcome: outcomes.handler))
        clock.advance(by: .milliseconds(100))
        XCTAssertTrue(eventually { outcomes[dropped.header.messageId] != nil })
        guard case .timedOut(delivered: true) = outcomes[dropped.header.messageId] else { return XCTFail("a delivered timeout") }
        XCTAssertThrowsError(try client.reply(dropped.header.messageId, [1]))

        // Another client's primed get: delivered to it as any send's, not handed back.
        try other.prime()
        XCTAssertNil(client.sendAndTake([6], replyCapacity: 1, timeout: .seconds(5), onOutcome: outcomes.handler))
        let delivered = try XCTUnwrap(other.tryGetMessage())
        try other.reply(delivered.header.messageId, [1])
        XCTAssertEqual(outcomes.count, 4, "four messages, four outcomes")
    }

    func testEveryMessageGetsExactlyOneOutcomeUnderRacingRepliesTimeoutsAndDisconnect() throws {
        let port = makePort(max: 1, backlog: 10_000)
        let client = try port.connect()
        try client.prime(8)
        let outcomes = Outcomes()
        let workers = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: workers) {
                while let m = try? client.getMessage(timeout: .seconds(2)) {
                    if m.header.messageId % 3 == 0 { usleep(UInt32.random(in: 0...3000)) }
                    try? client.reply(m.header.messageId, [0])
                    try? client.prime()
                }
            }
        }
        let total = 3000
        for _ in 0..<total { port.send([1], replyCapacity: 1, timeout: .milliseconds(2), onOutcome: outcomes.handler) }
        XCTAssertTrue(outcomes.wait(total, seconds: 10))
        client.disconnect()
        XCTAssertEqual(workers.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(outcomes.count, total)
        XCTAssertEqual(port.unansweredCount, 0)
    }
}
