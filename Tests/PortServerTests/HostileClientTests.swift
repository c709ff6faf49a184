import Dispatch
import FilterPort
import Foundation
import Glibc
import PortProtocol
import PortServer
import TestSupport
import XCTest

/// Clients that break the protocol, hold on to what they got, or never read:
/// each is told why and disconnected (or refused), its pending messages end
/// at once, the server logs it, and keeps serving everyone else.
final class HostileClientTests: PortTestCase {
    /// The server still takes a decider and answers through it.
    func assertStillServes(file: StaticString = #filePath, line: UInt = #line) throws {
        let good = try RawClient(socketPath, Hello(role: .decider, name: "good"))
        try good.prime(1)
        let waiter = sendInBackground(message(), timeout: .seconds(10))
        guard case .message(_, let id, _) = try good.next() else { return XCTFail("no message", file: file, line: line) }
        try good.send(ClientFrame.reply(messageId: id, .allow))
        guard case .replied? = waiter.wait()?.0 else { return XCTFail("no reply", file: file, line: line) }
    }

    func testGarbageBeforeTheHelloIsRefusedAndLogged() throws {
        let c = try RawClient(socketPath)
        try c.send(bytes: [0xde, 0xad, 0xbe, 0xef, 1, 2, 3])
        XCTAssertEqual(c.fatalError(), .unknownType)
        let second = try RawClient(socketPath)
        try second.send(.prime(count: 1))
        XCTAssertEqual(second.fatalError(), .badHandshake)
        XCTAssertNotNil(log.wait { $0.message.contains("bad-handshake: the first frame must be a hello") })
        try assertStillServes()
    }

    func testAClientThatNeverSaysHelloIsCutOff() throws {
        stopServer()
        try makeServer(handshake: .milliseconds(200))
        let c = try RawClient(socketPath)
        let start = ContinuousClock.now
        XCTAssertEqual(c.fatalError(), .handshakeTimeout)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
    }

    func testAWrongVersionIsRefusedWithAReasonToPrint() throws {
        let c = try RawClient(socketPath)
        try c.send(.hello(Hello(version: 2, role: .decider, name: "future")))
        guard case .refused(.badVersion, let reason) = try c.next() else { return XCTFail() }
        XCTAssertEqual(reason, "version 2 is not spoken here (the agent speaks 1)")
    }

    func testABrokenFrameEndsTheConnectionAndItsMessagesAtOnce() throws {
        for (bytes, code) in [([UInt8](repeating: 3, count: 5000), PortErrorCode.oversized),
                              ([1], .malformed),                                  // a client sending a byte at a time
                              ([3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], .malformed),  // a 1-byte verdict
                              (ClientFrame.hello(Hello(role: .decider, name: "again")).encode(), .badHandshake),
                              ([0x03, 0x01, 0, 0], .unknownType)] {
            let c = try RawClient(socketPath, Hello(role: .decider, name: "broken"))
            try c.prime(1)
            let held = sendInBackground(message(), timeout: .seconds(20))
            guard case .message = try c.next() else { return XCTFail() }
            try c.send(bytes: bytes)
            XCTAssertEqual(c.fatalError(), code)
            guard let (outcome, after) = held.wait() else { return XCTFail("no outcome after \(code)") }
            guard case .disconnected = outcome else { return XCTFail("\(code): \(outcome)") }
            XCTAssertLessThan(after, .seconds(5), "\(code): at once, not at the timeout")
        }
        // The last connection's messages fail first, then it leaves the server's list: a moment later.
        XCTAssertTrue(eventually { self.server.clients.isEmpty }, "\(server.clients.map(\.name))")
        try assertStillServes()
    }

    func testNothingAfterABrokenFrameIsTakenEvenWhenTheyArriveTogether() throws {
        // This test takes the deciders' frames itself: all three below are queued before any is read.
        stopServer()
        try makeServer(framesTakenByTest: true)
        let c = try RawClient(socketPath, Hello(role: .decider, name: "burst"))
        try c.prime(3)
        let waiters = (0..<3).map { _ in sendInBackground(message(), timeout: .seconds(20)) }
        var ids: [UInt64] = []
        XCTAssertTrue(eventually {
            server.takeDeciderFrames()  // the prime
            while ids.count < 3, let frame = try? c.next(within: 0), case .message(_, let id, _) = frame { ids.append(id) }
            return ids.count == 3
        }, "\(ids.count) messages")
        // A reply, a broken frame, a reply, taken with one receive. Each with a descriptor,
        // which the server never keeps, not even behind the broken frame.
        func openDescriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }
        let file = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        let before = openDescriptors()
        try c.socket.send(ClientFrame.reply(messageId: ids[0], .deny).encode(), passing: file)
        try c.socket.send([1], passing: file)
        try c.socket.send(ClientFrame.reply(messageId: ids[1], .allow).encode(), passing: file)
        server.takeDeciderFrames()
        XCTAssertEqual(c.fatalError(), .malformed)
        XCTAssertTrue(eventually { openDescriptors() <= before }, "descriptors left open: \(openDescriptors() - before)")
        let outcomes = waiters.map { $0.wait()?.0 }
        guard case .replied? = outcomes[0] else { return XCTFail("the reply before the broken frame: \(String(describing: outcomes[0]))") }
        for outcome in outcomes.dropFirst() {
            guard case .disconnected? = outcome else { return XCTFail("after the broken frame: \(String(describing: outcome))") }
        }
        // It still serves another decider (its frames taken by this test too).
        let good = try RawClient(socketPath, Hello(role: .decider, name: "good"))
        try good.prime(1)
        let waiter = sendInBackground(message(), timeout: .seconds(10))
        var id: UInt64?
        XCTAssertTrue(eventually {
            server.takeDeciderFrames()
            if let frame = try? good.next(within: 0), case .message(_, let m, _) = frame { id = m }
            return id != nil
        })
        try good.send(ClientFrame.reply(messageId: try XCTUnwrap(id), .allow))
        XCTAssertTrue(eventually { server.takeDeciderFrames(); return waiter.isDone })
        guard case .replied? = waiter.wait()?.0 else { return XCTFail("no reply") }
    }

    func testOnlyADeciderPrimesOrReplies() throws {
        let observer = try RawClient(socketPath, Hello(role: .observer, name: "watcher"))
        try observer.prime(1)
        XCTAssertEqual(observer.fatalError(), .wrongRole)
        let control = try RawClient(socketPath, Hello(role: .control, name: "ctl"))
        try control.send(ClientFrame.reply(messageId: 1, .deny))
        XCTAssertEqual(control.fatalError(), .wrongRole)
    }

    func testPrimingPastTheLimitIsRefused() throws {
        let c = try RawClient(socketPath, Hello(role: .decider, name: "greedy"))
        try c.prime(1000)
        try c.prime(100)
        XCTAssertEqual(c.fatalError(), .tooManyPrimed)
    }

    func testMaxConnectionsRefusesOneMoreDeciderWithAReason() throws {
        stopServer()
        try makeServer(maxDeciders: 1)
        let first = try RawClient(socketPath, Hello(role: .decider, name: "first"))
        let second = try RawClient(socketPath)
        try second.send(.hello(Hello(role: .decider, name: "second")))
        guard case .refused(.tooManyConnections, let reason) = try second.next() else { return XCTFail() }
        XCTAssertEqual(reason, "the port already has its maximum of 1 connection(s) (max_connections 1)")
        // Logged with the name its hello gave (it was '?').
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("port: refused client 'second' (pid \(getpid()), uid \(getuid())): the port already has") })
        // Observers and control connections have room of their own.
        _ = try RawClient(socketPath, Hello(role: .control, name: "ctl"))
        withExtendedLifetime(first) {}
    }

    /// A decider's control request may take a while (a reload): it waits on
    /// the connection's own thread, and the decider's replies are taken meanwhile.
    func testADecidersSlowControlRequestHoldsUpNoReply() throws {
        let release = DispatchSemaphore(value: 0)
        server.onControl { _, _ in
            release.wait()
            return .ok("done")
        }
        let c = try RawClient(socketPath, Hello(role: .decider, name: "both"))
        try c.prime(1)
        try c.send(.control(requestId: 7, command: ControlCommand.status.rawValue, argument: []))
        let waiter = sendInBackground(message(), timeout: .seconds(10))
        guard case .message(_, let id, _) = try c.next() else { return XCTFail("no message") }
        try c.send(ClientFrame.reply(messageId: id, .allow))
        guard case .replied? = waiter.wait()?.0 else { return XCTFail("the reply waited for the control request") }
        release.signal()
        guard case .controlReply(7, 0, let body) = try c.next() else { return XCTFail("no control reply") }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "done")
    }

    /// A decider's own opens are never sent to it: it is known as a decider
    /// from its welcome to its end, also while its frames are left untaken
    /// because a notice waits for room on its socket. (It was known only
    /// while its frames were taken: an open right after the welcome, or while
    /// it lagged, was asked of itself and waited until on_timeout.)
    func testADeciderIsKnownAsOneFromItsWelcomeToItsEndEvenWhileItLags() throws {
        let c = try RawClient(socketPath, Hello(role: .decider, name: "self"))
        XCTAssertTrue(server.isDeciderProcess(getpid()), "right after its welcome")
        var lagging = false
        for id in 1...20_000 where !lagging {
            _ = try? c.socket.trySend(ClientFrame.reply(messageId: UInt64(id), .allow).encode())
            lagging = !server.hasDeciders
        }
        XCTAssertTrue(lagging, "its no-waiter notices never filled its socket")
        XCTAssertTrue(server.isDeciderProcess(getpid()), "while its frames are left untaken")
        c.socket.close()
        XCTAssertTrue(eventually { !self.server.isDeciderProcess(getpid()) }, "after its end")
    }

    /// Replies to messages it never got earn a decider no-waiter notices; one
    /// that never reads them is ended once they pile up, and holds no more.
    func testADeciderThatLetsItsNoticesPileUpIsEnded() throws {
        let c = try RawClient(socketPath, Hello(role: .decider, name: "flood"))
        for id in 1...20_000 { try? c.send(ClientFrame.reply(messageId: UInt64(id), .allow)) }
        XCTAssertNotNil(log.wait { $0.message.contains("'flood'") && $0.message.contains("not-reading") })
        XCTAssertTrue(eventually { self.server.clients.isEmpty }, "\(server.clients.map(\.name))")
        try assertStillServes()
    }

    func testAClientThatNeverReadsIsDisconnectedByTheDeadlineAndHeldNothing() throws {
        let c = try RawClient(socketPath, Hello(role: .decider, name: "deaf"))
        try c.prime(200)
        let big = String(repeating: "x", count: 60_000)
        usleep(100_000)  // the prime reaches the server before the sends (not a synchronisation the test needs)
        let waiters = (0..<200).map { _ in sendInBackground(message(content: big, deadline: .seconds(1)), timeout: .seconds(2)) }
        for (i, w) in waiters.enumerated() {
            guard let (outcome, after) = w.wait(.seconds(10)) else { return XCTFail("message \(i): no outcome") }
            XCTAssertLessThanOrEqual(after, .milliseconds(2500), "message \(i): \(outcome)")
        }
        XCTAssertNotNil(log.wait { $0.message.contains("not-reading") })
        withExtendedLifetime(c) {}
        try assertStillServes()
    }

    func testTenThousandConnectionsComeAndGoAndLeaveNothingBehind() throws {
        func openDescriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }
        try assertStillServes()
        let before = openDescriptors()
        for i in 0..<10_000 {
            let c = try RawClient(socketPath)
            if i % 2 == 0 { try? c.send(.hello(Hello(role: .control, name: "c\(i)"))) }
            c.socket.close()
        }
        XCTAssertTrue(eventually(timeout: .seconds(30)) { self.server.clients.isEmpty && openDescriptors() <= before })
        try assertStillServes()
    }
}

/// The warnings about misbehaving clients are rate-limited.
final class ClientProblemLogTests: PortTestCase {
    func testAStormOfBadClientsLogsAtMostTenWarningsASecond() throws {
        for _ in 0..<200 {
            let c = try RawClient(socketPath)
            try c.send(bytes: [0xff, 0xff, 0xff, 0xff])
            _ = c.fatalError()
        }
        let warnings = log.all.filter { $0.level == .warning && $0.message.contains("unknown-type") }
        XCTAssertGreaterThan(warnings.count, 0)
        // 200 connections take well under the few seconds it would take to log them all at ten a second.
        XCTAssertLessThanOrEqual(warnings.count, 10 * 3, "\(warnings.count) warnings")
    }
}
