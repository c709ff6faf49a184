import Dispatch
import FilterPort
import Foundation
import Glibc
import PortProtocol
import PortServer
import Synchronization
import TestSupport
import XCTest

/// The port's contract, checked the same way for both clients: the Swift
/// FilterPortClient library and the Python client written from
/// docs/port-protocol.md alone. The filter side is this test, sending
/// messages through a real socket server; each client runs as a child
/// process that performs the steps it is given and prints what it saw.
class PortTestCase: XCTestCase {
    var folder = ""
    var socketPath: String { folder + "/port" }
    var server: PortServer!
    var port: FilterPort<WireMessage, ClientReply>!
    var frameTaker: DeciderFrameTaker?
    let log = LogCapture()

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let swiftClient = [productsDirectory + "fanfilter-port-conformance"]
    /// Staged: uid 1000 runs it too (`PortAccessTests`); it imports fanfilter_port.py from its own folder.
    static let pythonClient = ["/usr/bin/python3", { () -> String in
        _ = staged(root + "/Tests/PortClients/fanfilter_port.py")
        return staged(root + "/Tests/PortClients/conformance.py")
    }()]

    /// - Parameter framesTakenByTest: the deciders' frames are taken only when the test calls `takeDeciderFrames()`.
    func makeServer(maxDeciders: Int = 4, group: UInt32? = nil, handshake: Duration = .seconds(5),
                    framesTakenByTest: Bool = false) throws {
        var access = PortAccess(path: socketPath, group: group ?? (getuid() == 0 ? nil : getgid()), maxDeciders: maxDeciders)
        access.handshakeTimeout = handshake
        server = try PortServer(access: access, logger: log.logger)
        port = attachTestPort(to: server, backlogCapacity: 64)
        frameTaker = framesTakenByTest ? nil : DeciderFrameTaker(server)
        server.start()
    }

    override func setUpWithError() throws {
        var template = Array("/tmp/fanfilter-port.XXXXXX".utf8CString)
        folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        chmod(folder, 0o755)
        try makeServer()
    }

    override func tearDown() {
        stopServer()
        _ = Child(["/bin/rm", "-rf", folder]).wait()
    }

    /// Stops the frame taker, then the server.
    func stopServer() {
        frameTaker?.stop()
        server?.stop()
    }

    func client(_ kind: [String], _ steps: [String]) -> Child {
        Child(kind + [socketPath] + steps, mergeStderr: true)
    }

    func message(path: String = "/srv/file", rule: UInt32 = 3, content: String = "abc", deadline: Duration = .seconds(10)) -> WireMessage {
        WireMessage(event: EventRecord(access: .open, pid: 1234, uid: 1000, gid: 1000, rule: rule,
                                       path: Array(path.utf8), content: Array(content.utf8)),
                    descriptor: nil, deadline: DispatchTime.now().uptimeNanoseconds + UInt64(deadline.components.seconds) * 1_000_000_000)
    }

    /// Sends on a thread of its own; the outcome arrives in the box.
    func sendInBackground(_ m: WireMessage, timeout: Duration) -> OutcomeWaiter {
        let waiter = OutcomeWaiter()
        port.send(m, replyCapacity: PortLimits.replyPayloadSize, timeout: timeout) { _, _, outcome in
            waiter.set(outcome)
        }
        return waiter
    }
}

/// One send's outcome, and when it came.
final class OutcomeWaiter: Sendable {
    private let box = Mutex<(SendOutcome<ClientReply>, ContinuousClock.Instant)?>(nil)
    private let done = DispatchSemaphore(value: 0)
    let sent = ContinuousClock.now

    func set(_ o: SendOutcome<ClientReply>) {
        box.withLock { $0 = (o, .now) }
        done.signal()
    }

    /// Whether the outcome came.
    var isDone: Bool { box.withLock { $0 != nil } }

    /// The outcome and how long after the send it came; nil if none within `timeout`.
    func wait(_ timeout: Duration = .seconds(20)) -> (SendOutcome<ClientReply>, Duration)? {
        guard done.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000))) == .success else { return nil }
        return box.withLock { $0.map { ($0.0, $0.1 - sent) } }
    }
}

final class PortConformanceTests: PortTestCase {
    func eachClient(_ body: (String, [String]) throws -> Void) rethrows {
        for (name, argv) in [("swift", Self.swiftClient), ("python", Self.pythonClient)] {
            try body(name, argv)
        }
    }

    func testAReplyIsTheOutcomeAndNamesItsClient() {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)-scanner", "prime:1", "get", "reply:deny", "notice"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 1"), name)
            let outcome = port.sendAndWait(message(), replyCapacity: 4, timeout: .seconds(10))
            guard case .replied(let header, let reply) = outcome else { return XCTFail("\(name): \(outcome)") }
            XCTAssertEqual(header.status, 0)
            XCTAssertEqual(ClientFrame.verdict(of: reply.payload), .deny, name)
            XCTAssertEqual(reply.client, "\(name)-scanner")
            let r = c.wait()
            XCTAssertEqual(r.output, "welcome\nprimed 1\nmessage \(header.messageId) open 3 /srv/file 3 no-fd\nreplied \(header.messageId)\nno-notice\n", name)
        }
    }

    func testAReplyAndPrimeArmsTheNextGet() {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)", "prime:1", "get", "reply-prime:deny", "get", "reply:allow"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 1"), name)
            let first = sendInBackground(message(), timeout: .seconds(10))
            let second = sendInBackground(message(), timeout: .seconds(10))
            guard case .replied(_, let a)? = first.wait()?.0, case .replied(_, let b)? = second.wait()?.0 else { return XCTFail(name) }
            XCTAssertEqual([ClientFrame.verdict(of: a.payload), ClientFrame.verdict(of: b.payload)], [.deny, .allow], name)
            XCTAssertEqual(server.clients.first?.primed ?? 0, 0, name)
            _ = c.wait()
        }
    }

    func testALateReplyFindsNoWaiterAndChangesNothing() {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)", "prime:1", "get", "sleep:400", "reply:deny", "notice"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 1"), name)
            let outcome = port.sendAndWait(message(), replyCapacity: 4, timeout: .milliseconds(100))
            guard case .timedOut(delivered: true) = outcome else { return XCTFail("\(name): \(outcome)") }
            let r = c.wait()
            let id = r.lines.first { $0.hasPrefix("message ") }.map { String($0.split(separator: " ")[1]) } ?? "?"
            XCTAssertEqual(r.lines.last.map(String.init), "notice \(id)", "\(name): \(r.output)")
        }
    }

    func testASecondReplyFindsNoWaiter() {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)", "prime:1", "get", "reply:deny", "reply:allow", "notice"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 1"), name)
            let outcome = port.sendAndWait(message(), replyCapacity: 4, timeout: .seconds(10))
            guard case .replied(let header, let reply) = outcome else { return XCTFail("\(name): \(outcome)") }
            XCTAssertEqual(ClientFrame.verdict(of: reply.payload), .deny, "the first reply counts")
            XCTAssertEqual(c.wait().lines.last.map(String.init), "notice \(header.messageId)", name)
        }
    }

    func testAReplyToAnotherClientsMessageFindsNoWaiter() {
        eachClient { name, argv in
            let a = client(argv, ["hello:decider:\(name)-a", "prime:1", "get", "sleep:1500", "reply:allow"])
            XCTAssertTrue(a.waitForOutput(containing: "primed 1"), name)
            let waiter = sendInBackground(message(), timeout: .seconds(10))
            XCTAssertTrue(a.waitForOutput(containing: "message "), name)
            let id = port.unansweredCount  // one message, delivered to a
            XCTAssertEqual(id, 1)
            // Its id is the port's first: ids start at 1 on a new server.
            let b = client(argv, ["hello:decider:\(name)-b", "reply-to:1:deny", "notice"])
            XCTAssertEqual(b.wait().lines.last.map(String.init), "notice 1", "\(name): b may not answer a's message")
            guard case .replied(_, let reply)? = waiter.wait()?.0 else { return XCTFail(name) }
            XCTAssertEqual(ClientFrame.verdict(of: reply.payload), .allow, "a's answer stands")
            XCTAssertEqual(reply.client, "\(name)-a")
            _ = a.wait()
            stopServer()
            try? makeServer()
        }
    }

    func testAReplyTooLargeForTheSenderIsNotTakenAsAVerdict() {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)", "prime:1", "get", "reply-large", "notice"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 1"), name)
            let outcome = port.sendAndWait(message(), replyCapacity: 4, timeout: .seconds(10))
            guard case .replyTooLarge(byteCount: 8, capacity: 4) = outcome else { return XCTFail("\(name): \(outcome)") }
            XCTAssertEqual(c.wait().lines.last.map(String.init), "no-notice", name)
        }
    }

    func testADisconnectFailsThePendingMessagesAtOnce() {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)", "prime:2", "get", "sleep:300", "disconnect", "sleep:2000"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 2"), name)
            let held = sendInBackground(message(), timeout: .seconds(20))
            XCTAssertTrue(c.waitForOutput(containing: "disconnected"), name)
            guard let (outcome, after) = held.wait() else { return XCTFail("\(name): no outcome") }
            guard case .disconnected = outcome else { return XCTFail("\(name): \(outcome)") }
            XCTAssertLessThan(after, .seconds(5), "\(name): answered at the disconnect, not at the 20 s timeout")
            guard case .noClient = port.sendAndWait(message(), replyCapacity: 4, timeout: .seconds(5)) else {
                return XCTFail("\(name): with the client gone a new message finds no client")
            }
            _ = c.wait()
        }
    }

    func testANonZeroStatusReachesTheSender() {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)", "prime:1", "get", "reply-status:5"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 1"), name)
            guard case .replied(let header, _) = port.sendAndWait(message(), replyCapacity: 4, timeout: .seconds(10)) else { return XCTFail(name) }
            XCTAssertEqual(header.status, 5)
            _ = c.wait()
        }
    }

    func testMessagesGoOnlyToDecidersThatServeTheirRule() throws {
        eachClient { name, argv in
            let c = client(argv, ["hello:decider:\(name)", "prime:1", "get", "reply:deny"])
            XCTAssertTrue(c.waitForOutput(containing: "primed 1"), name)
            _ = port.sendAndWait(message(rule: 3), replyCapacity: 4, timeout: .seconds(10))
            _ = c.wait()
        }
        // A decider for rule 7 only: a rule-3 message finds no client, a rule-7 one goes to it.
        let only7 = try RawClient(socketPath, Hello(role: .decider, rules: [7], name: "seven"))
        try only7.prime(1)
        guard case .noClient = port.sendAndWait(message(rule: 3), replyCapacity: 4, timeout: .seconds(2)) else { return XCTFail() }
        let waiter = sendInBackground(message(rule: 7), timeout: .seconds(10))
        let frame = try only7.next()
        guard case .message(_, let id, let event) = frame else { return XCTFail("\(frame)") }
        XCTAssertEqual(event.rule, 7)
        try only7.send(ClientFrame.reply(messageId: id, .allow))
        guard case .replied? = waiter.wait()?.0 else { return XCTFail() }
    }

    func testMessagesAreSpreadOverTheDecidersPrimedGets() throws {
        let a = try RawClient(socketPath, Hello(role: .decider, name: "a"))
        let b = try RawClient(socketPath, Hello(role: .decider, name: "b"))
        try a.prime(1)
        try b.prime(1)
        XCTAssertTrue(eventually { self.server.clients.map(\.primed) == [1, 1] })
        let waiters = (0..<2).map { _ in sendInBackground(message(), timeout: .seconds(10)) }
        for (client, name) in [(a, "a"), (b, "b")] {
            guard case .message(_, let id, _) = try client.next() else { return XCTFail("\(name) got no message") }
            try client.send(ClientFrame.reply(messageId: id, .allow))
        }
        let repliers = waiters.compactMap { w -> String? in
            guard case .replied(_, let reply)? = w.wait()?.0 else { return nil }
            return reply.client
        }
        XCTAssertEqual(repliers.sorted(), ["a", "b"], "one message each: each had one get primed")
    }

    func testControlRequestsAreAnsweredOnTheirConnection() {
        // A long answer (300,000 bytes: the metrics of a large policy) comes in pieces, joined by the client.
        let long = "metrics\n" + String(repeating: "fanfilter_rule_hits_total{rule=\"1\"} 0\n", count: 8000)
        server.onControl { command, argument in
            switch command {
            case .status: .ok("status " + String(decoding: argument, as: UTF8.self))
            case .metrics: .ok(long)
            default: .failed("no \(command)")
            }
        }
        eachClient { name, argv in
            let r = client(argv, ["hello:control:\(name)", "control:status:json", "control:flush", "control:metrics"]).wait()
            XCTAssertEqual(r.output, "welcome\ncontrol 0 11 status json\ncontrol 14 14 no flushCaches\ncontrol 0 \(long.utf8.count) metrics\n", name)
        }
    }

    func testObserversGetEachDecision() {
        eachClient { name, argv in
            let c = client(argv, ["hello:observer:\(name)", "decision"])
            XCTAssertTrue(c.waitForOutput(containing: "welcome"), name)
            XCTAssertTrue(eventually { self.server.observers.isWatched }, name)
            server.observers.publish(DecisionRecord(access: .open, pid: 5, verdict: .deny, source: .client,
                                                    rule: 2, path: Array("/srv/x".utf8), client: Array("s".utf8)))
            XCTAssertEqual(c.wait().lines.last.map(String.init), "decision deny client /srv/x lost=0 client=s", name)
        }
    }
}
