import Clocks
import Dispatch
import FanFilter
import Foundation
import Glibc
import Policy
import PortProtocol
import PortServer
import PortTransport
import Synchronization
import TestSupport
import XCTest

/// `ask` rules decided by deciders on the socket port, on the real kernel:
/// the scanner example end to end, pass_fd, a client killed with messages in
/// hand, a late client, no client, a decider's own opens, observers, and
/// the reader's backlog flag.
final class ClientDecisionTests: KernelTestCase {
    var server: PortServer!
    let log = LogCapture()
    var socketPath: String { sandbox.root + "/port" }
    static let scanner = productsDirectory + "fanfilter-scanner"
    static let runner = productsDirectory + "fanfilter-port-conformance"

    override func tearDown() {
        server?.stop()
        super.tearDown()
    }

    func start(_ rules: String) throws -> Agent {
        let p = try policy("watch = $ROOT\n" + rules, in: sandbox)
        server = try PortServer(access: PortAccess(path: socketPath, group: nil, maxDeciders: p.agent.maxConnections), logger: log.logger)
        let agent = try startAgent("watch = $ROOT\n" + rules, logger: log.logger, clients: server)
        server.start()
        return agent
    }

    func scanner(_ extra: [String] = []) -> Child {
        let c = Child([Self.scanner, "--socket", socketPath] + extra, mergeStderr: true)
        XCTAssertTrue(c.waitForOutput(containing: "connected to"), "the scanner connected")
        XCTAssertTrue(eventually { self.server.clients.first?.primed == 10 }, "it primed 5 requests on each of 2 threads")
        return c
    }

    func testTheScannerDeniesAFileWithItsMarkerThroughTheWholeChain() throws {
        let bad = sandbox.file("data/bad.txt", contents: Array("this is foul stuff".utf8))
        let clean = sandbox.file("data/clean.txt", contents: Array("nothing to see".utf8))
        let agent = try start("reply_timeout = 5s\nask perm=open all : dir=$ROOT/data/\n")
        let s = scanner()
        XCTAssertEqual(openFromChild([bad, clean]), ["EPERM", "ok"])
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("deny open \(self.sandbox.root)/data/bad.txt") && $0.message.contains("client=scanner") })
        kill(s.pid, SIGTERM)
        _ = s.wait()
        stop(agent)
        XCTAssertEqual(agent.counters[.denied], 1)
    }

    func testPassFdLetsTheScannerReadPastTheContentBytes() throws {
        let deep = sandbox.file("data/deep.bin", contents: Array(repeating: UInt8(ascii: "."), count: 5000) + Array("foul".utf8))
        for (passFD, expected) in [("no", "ok"), ("yes", "EPERM")] {
            let agent = try start("reply_timeout = 5s\ncontent_bytes = 16\npass_fd = \(passFD)\nask perm=open all : dir=$ROOT/data/\n")
            let s = scanner()
            XCTAssertEqual(openFromChild([deep]), [expected], "pass_fd = \(passFD)")
            kill(s.pid, SIGTERM)
            _ = s.wait()
            stop(agent)
            server.stop()
        }
    }

    func testAClientKilledWithMessagesInHandHasThemAnsweredAtOnce() throws {
        let files = (0..<50).map { sandbox.file("data/\($0)") }
        // Under emulation (testTimeScale) the timeout and the bound below stretch alike.
        let agent = try start("reply_timeout = \(10 * testTimeScale)s\non_disconnect = deny\ncache = off\nask perm=open all : dir=$ROOT/data/\n")
        let holder = Child([Self.runner, socketPath, "hello:decider:holder", "prime:100", "gets:50", "sleep:60000"], mergeStderr: true)
        XCTAssertTrue(holder.waitForOutput(containing: "primed 100"))
        let openers = files.map { Child([Array(openerPath.utf8), Array("open".utf8), $0]) }
        XCTAssertTrue(holder.waitForOutput(containing: "messages 50", timeout: .seconds(20)), "the client holds 50 unanswered messages")
        XCTAssertEqual(server.clients.first?.primed, 50)
        let killed = ContinuousClock.now
        kill(holder.pid, SIGKILL)
        for o in openers {
            let r = o.wait(timeout: .seconds(15))
            XCTAssertFalse(r.hung)
            XCTAssertEqual(r.lines, ["EPERM"], "on_disconnect = deny")
        }
        XCTAssertLessThan(ContinuousClock.now - killed, .seconds(5).scaledForTests, "answered at the disconnect, not at reply_timeout")
        _ = holder.wait()
        stop(agent)
    }

    /// The event reader takes the deciders' replies: a decider that floods it
    /// with replies to messages it never got (and reads the notices they earn)
    /// holds up neither the kernel's events nor the scanner's decisions.
    func testAChattyDeciderHoldsUpNeitherTheReaderNorAnotherClient() throws {
        let files = (0..<200).map { sandbox.file("data/\($0)") }
        let agent = try start("reply_timeout = 2s\non_timeout = deny\ncache = off\nask perm=open all : dir=$ROOT/data/\n")
        let s = scanner()
        let chatty = try SeqPacketSocket(connectingTo: socketPath)
        try chatty.send(ClientFrame.hello(Hello(role: .decider, name: "chatty")).encode())
        XCTAssertNotNil(try chatty.receive(capacity: PortLimits.maxAgentFrame, until: SystemClock().now() + 5_000_000_000), "welcomed")
        let sent = Atomic<Int>(0), notices = Atomic<Int>(0)
        let threads = DispatchGroup()
        DispatchQueue.global().async(group: threads) {
            var id: UInt64 = 1 << 40
            while (try? chatty.send(ClientFrame.reply(messageId: id, .allow).encode())) != nil {
                sent.add(1, ordering: .relaxed)
                id += 1
            }
        }
        DispatchQueue.global().async(group: threads) {
            while (try? chatty.receive(capacity: PortLimits.maxAgentFrame)) != nil { notices.add(1, ordering: .relaxed) }
        }
        XCTAssertTrue(eventually { notices.load(ordering: .relaxed) > 1000 }, "the flood is under way")
        let started = ContinuousClock.now
        XCTAssertEqual(openFromChild(files), Array(repeating: "ok", count: 200), "each decided by the scanner, none by on_timeout")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20).scaledForTests)
        XCTAssertGreaterThan(notices.load(ordering: .relaxed), 2000)
        XCTAssertEqual(server.clients.filter { $0.name == "chatty" }.count, 1, "a client that reads its notices is not ended")
        chatty.shutdown()
        XCTAssertEqual(threads.wait(timeout: .now() + 10), .success)
        kill(s.pid, SIGTERM)
        _ = s.wait()
        stop(agent)
        XCTAssertEqual(agent.counters[.denied], 0)
    }

    /// The agent flags a message when its reader read more events behind it
    /// (the hint `AgentLoadFollower` acts on): never for one opener, whose
    /// next open waits for this answer; and among many openers at once, some.
    func testAMessageSaysWhenTheReaderHadMoreEventsWaiting() throws {
        let files = (0..<100).map { sandbox.file("data/\($0)") }
        let agent = try start("reply_timeout = 5s\ncache = off\nask perm=open all : dir=$ROOT/data/\n")
        let decider = try SeqPacketSocket(connectingTo: socketPath)
        try decider.send(ClientFrame.hello(Hello(role: .decider, name: "counting")).encode())
        XCTAssertNotNil(try decider.receive(capacity: PortLimits.maxAgentFrame, until: SystemClock().now() + 5_000_000_000), "welcomed")
        try decider.send(ClientFrame.prime(count: 64).encode())
        let messages = Atomic<Int>(0), flagged = Atomic<Int>(0)
        let answering = DispatchGroup()
        DispatchQueue.global().async(group: answering) {
            while let frame = try? decider.receive(capacity: PortLimits.maxAgentFrame),
                  case .message(_, let id, let event) = try? AgentFrame.decode(frame.bytes) {
                messages.add(1, ordering: .relaxed)
                if event.moreEventsWaiting { flagged.add(1, ordering: .relaxed) }
                guard (try? decider.send(ClientFrame.reply(messageId: id, .allow, primeAgain: true).encode())) != nil else { return }
            }
        }
        XCTAssertEqual(openFromChild(files), Array(repeating: "ok", count: 100))
        XCTAssertEqual(messages.load(ordering: .relaxed), 100)
        XCTAssertEqual(flagged.load(ordering: .relaxed), 0, "one opener: never more than one event in the queue")
        let openers = (0..<8).map { _ in Child([Array(openerPath.utf8), Array("open".utf8)] + files) }
        for opener in openers {
            let r = opener.wait()
            XCTAssertFalse(r.hung)
            XCTAssertEqual(r.lines.count, 100)
        }
        XCTAssertEqual(messages.load(ordering: .relaxed), 900)
        XCTAssertGreaterThan(flagged.load(ordering: .relaxed), 0, "eight openers at once: some reads held more than one event")
        decider.shutdown()
        XCTAssertEqual(answering.wait(timeout: .now() + 10), .success)
        stop(agent)
    }

    func testALateClientGetsOnTimeoutNamedInTheLog() throws {
        let file = sandbox.file("data/slow")
        let agent = try start("reply_timeout = 300ms\non_timeout = deny\nask perm=open all : dir=$ROOT/data/\n")
        let sleeper = Child([Self.runner, socketPath, "hello:decider:sleeper", "prime:1", "get", "sleep:3000", "reply:allow", "notice"], mergeStderr: true)
        XCTAssertTrue(sleeper.waitForOutput(containing: "primed 1"))
        let start = ContinuousClock.now
        XCTAssertEqual(openFromChild([file]), ["EPERM"])
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
        XCTAssertNotNil(log.wait { $0.message.contains("setting=on_timeout (the client did not answer in time)") })
        XCTAssertTrue(sleeper.wait().output.contains("notice "), "its late reply found no waiter")
        stop(agent)
        XCTAssertEqual(agent.counters[.timedOut], 1, "the client's timeout is counted as one")
    }

    /// Regression: one user's opens, held by a decider that never answers,
    /// filled the queue, and while they did every other user's events were
    /// answered on_overload: executions denied, opens allowed past the rules.
    /// Past half the queue each user (real uid) gets a share of it: the
    /// flood's excess is refused at once, and the others are still decided.
    func testOneUsersFloodLeavesRoomForTheOthersEvents() throws {
        let flood = (0..<24).map { sandbox.file("flood/f\($0)") }
        let secret = sandbox.file("secret")
        let agent = try start("queue_size = 16\nqueue_per_user = 2\nreply_timeout = 20s\n"
                              + "ask perm=open all : dir=$ROOT/flood/\ndeny perm=open all : path=$ROOT/secret\n")
        let holder = Child([Self.runner, socketPath, "hello:decider:holder", "prime:64", "sleep:30000"], mergeStderr: true)
        XCTAssertTrue(holder.waitForOutput(containing: "primed 64"))
        defer { kill(holder.pid, SIGKILL); _ = holder.wait() }
        // uid 1000 opens 24 files at once, one process each; the holder never answers.
        let openers = flood.map { Child(asUser1000.map { Array($0.utf8) } + [Array(openerPath.utf8), Array("open".utf8), $0]) }
        // 7 fill the queue below half, 2 are uid 1000's share past it, and the other 15 are refused at once.
        XCTAssertTrue(eventually(timeout: .seconds(20)) { agent.counters[.overloaded] == 15 }, "\(agent.counters[.overloaded]) refused")
        XCTAssertNotNil(log.wait { $0.message.hasSuffix("setting=on_overload (uid 1000 already has 2 events in a queue at least half full (queue_per_user))") },
                        "\(log.all.suffix(5).map(\.message))")
        XCTAssertEqual(openFromChild([secret]), ["EPERM"], "root's open still finds room and is decided by the rules")
        kill(holder.pid, SIGKILL)  // the held ones get on_disconnect now
        for opener in openers { XCTAssertFalse(opener.wait(timeout: .seconds(60)).hung, "an opener hung") }
        stop(agent)
    }

    func testWithoutAClientAskGetsOnNoClient() throws {
        let file = sandbox.file("data/x")
        let agent = try start("on_no_client = deny\nask perm=open all : dir=$ROOT/data/\n")
        XCTAssertEqual(openFromChild([file]), ["EPERM"])
        XCTAssertNotNil(log.wait { $0.message.contains("setting=on_no_client") })
        stop(agent)
        XCTAssertEqual(agent.counters[.clientGone], 1, "counted as an ask no client answered")
    }

    func testADecidersOwnOpensAreNeverSentToItself() throws {
        let file = sandbox.file("data/own")
        let agent = try start("reply_timeout = \(2 * testTimeScale)s\non_timeout = deny\nask perm=open all : dir=$ROOT/data/\n")
        for client in [[Self.runner], ["/usr/bin/python3", PortClientsPath.conformance]] {
            let r = Child(client + [socketPath, "hello:decider:self", "prime:1", "open:\(String(decoding: file, as: UTF8.self))"], mergeStderr: true)
                .wait(timeout: .seconds(20))
            XCTAssertEqual(r.lines.last.map(String.init), "open ok", "\(client[0]): \(r.output)")
            XCTAssertLessThan(r.elapsed, .seconds(2).scaledForTests, "not after reply_timeout")
        }
        stop(agent)
    }

    /// docs/port-protocol.md: a decider's own open is decided by the other
    /// rules, and what they decide is its alone. Before, an `ask` rule gave it
    /// `on_no_client` (here deny), and no later rule was read.
    func testADecidersOwnOpenIsDecidedByTheOtherRulesAndCachedForNoOneElse() throws {
        let file = sandbox.file("data/own")
        let path = String(decoding: file, as: UTF8.self)
        let agent = try start("reply_timeout = 2s\non_no_client = deny\nask perm=open all : dir=$ROOT/data/\nallow perm=open all : dir=$ROOT/data/\n")
        let r = Child([Self.runner, socketPath, "hello:decider:self", "prime:1", "open:\(path)", "open:\(path)"], mergeStderr: true)
            .wait(timeout: .seconds(20))
        XCTAssertEqual(r.lines.suffix(2).map(String.init), ["open ok", "open ok"], r.output)
        XCTAssertTrue(eventually { self.server.clients.isEmpty }, "the decider left")
        // Another process, with no decider connected: the ask rule decides it, not the decider's allow.
        XCTAssertEqual(openFromChild([file]), ["EPERM"])
        XCTAssertNotNil(log.wait { $0.message.contains("setting=on_no_client") })
        stop(agent)
    }

    /// A client that replies with a non-zero status leaves the answer to
    /// `on_timeout`: the observer's frame says so, and names the client.
    /// Before, its source was `client`, as if the client had decided.
    func testAnObserverSeesOnTimeoutWhenAClientCouldNotDecide() throws {
        let file = sandbox.file("data/undecided")
        let agent = try start("reply_timeout = 5s\non_timeout = deny\nask perm=open all : dir=$ROOT/data/\n")
        let decider = Child([Self.runner, socketPath, "hello:decider:shrug", "prime:1", "get", "reply-status:5"], mergeStderr: true)
        XCTAssertTrue(decider.waitForOutput(containing: "primed 1"))
        let watcher = Child([Self.runner, socketPath, "hello:observer:watcher", "decision"], mergeStderr: true)
        XCTAssertTrue(watcher.waitForOutput(containing: "welcome"))
        XCTAssertTrue(eventually { self.server.observers.isWatched })
        XCTAssertEqual(openFromChild([file]), ["EPERM"])
        XCTAssertEqual(watcher.wait().lines.last.map(String.init), "decision deny on_timeout \(sandbox.root)/data/undecided lost=0 client=shrug")
        _ = decider.wait()
        stop(agent)
    }

    func testAnObserverSeesEachDecisionAndASlowOneNeverSlowsTheAgent() throws {
        let denied = sandbox.file("data/denied")
        let files = (0..<20).map { sandbox.file("load/\($0)") }
        let agent = try start("cache = off\ndeny perm=open all : path=$ROOT/data/denied\n")
        let watcher = Child([Self.runner, socketPath, "hello:observer:watcher", "decision"], mergeStderr: true)
        XCTAssertTrue(watcher.waitForOutput(containing: "welcome"))
        XCTAssertTrue(eventually { self.server.observers.isWatched })
        XCTAssertEqual(openFromChild([denied]), ["EPERM"])
        XCTAssertEqual(watcher.wait().lines.last.map(String.init), "decision deny rule \(sandbox.root)/data/denied lost=0 client=")

        // An observer that never reads: the agent answers every event all the same, and the observer loses entries.
        let deaf = try RawObserver(socketPath)
        XCTAssertTrue(eventually { self.server.observers.isWatched })
        let r = Child([Array(openerPath.utf8), Array("loop".utf8), Array("20000".utf8)] + files).wait(timeout: .seconds(120))
        XCTAssertFalse(r.hung)
        XCTAssertTrue(r.output.contains("other=0"), r.output)
        // The opener returns once the response is written; the reader counts it a moment later.
        XCTAssertTrue(eventually { agent.counters[.responses] == agent.counters[.events] }, agent.counters.summary)
        // The count comes with the first decision queued after the loss.
        XCTAssertTrue(deaf.eventuallySeesLoss { XCTAssertEqual(openFromChild([denied]), ["EPERM"]) },
                      "the slow observer was told it lost entries, where its sequence skips")
        stop(agent)
    }
}

/// Where the Python client's files are.
enum PortClientsPath {
    static let conformance = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../PortClients/conformance.py").standardized.path
}
