import Clocks
import Dispatch
import FanFilter
import FilterPort
import Foundation
import Glibc
import Policy
import Synchronization
import TestSupport
import XCTest

/// The agent's exactly-once logic without root: a scripted kernel behind the
/// KernelGroup seam, event by event, with real files for the facts. Every
/// wait is for a condition, bounded; nothing sleeps to synchronise.
final class ScriptedAgentTests: ScriptedTestCase {
    private var dir: String { sandbox.root }

    override func setUpWithError() throws {
        try super.setUpWithError()
        for name in ["allowed", "denied", "slow", "a", "b", "c"] { sandbox.file(name, contents: Array("x".utf8)) }
    }

    /// An agent watching the folder, its policy naming the folder `$DIR`.
    private func agent(_ text: String, clock: any MonotonicClock = SystemClock(),
                       decide: (@Sendable (AccessRequest) -> Decision)? = nil) throws -> Agent {
        // Under emulation a decision may outlast the default 250 ms: a test that sets no timeout gets it stretched.
        let timeout = testTimeScale > 1 && !text.contains("reply_timeout") ? "reply_timeout = \(250 * testTimeScale)ms\n" : ""
        return try startAgent("watch = $ROOT\n" + timeout + text.replacingOccurrences(of: "$DIR", with: "$ROOT"), clock: clock, decide: decide)
    }

    func testEveryEventIsAnsweredOnceByThePolicy() throws {
        let agent = try agent("deny perm=open all : path=$DIR/denied")
        for i in 0..<200 { kernel.access(dir + (i % 2 == 0 ? "/allowed" : "/denied")) }
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.map { $0.answer }, (0..<200).map { $0 % 2 == 0 ? .allow : .deny })
        XCTAssertEqual(kernel.marks, ["add filesystem \(dir)"])
        stop(agent)
    }

    func testATimedOutEventGetsItsSettingOnceAndTheLateReplyIsNotWritten() throws {
        let release = DispatchSemaphore(value: 0)
        let agent = try agent("reply_timeout = 20ms\non_timeout = deny\non_timeout_execute = deny") { request in
            if request.object.path.map({ $0.suffix(5).elementsEqual("/slow".utf8) }) ?? false {
                _ = release.wait(timeout: .now() + .seconds(10))
            }
            return Decision(verdict: .allow, rule: nil)
        }
        kernel.access(dir + "/slow")
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.first?.answer, .deny, "on_timeout answered")
        kernel.access(dir + "/allowed")
        release.signal()  // the worker replies now: too late, no waiter
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.last?.answer, .allow)
        XCTAssertTrue(eventually { agent.counters[.lateReplies] > 0 })
        XCTAssertEqual(agent.counters[.lateReplies], 1)
        XCTAssertEqual(agent.counters[.timedOut], 1)
        stop(agent)
    }

    func testAFullQueueIsAnsweredAtOnceAndEveryEventStillOnce() throws {
        let release = DispatchSemaphore(value: 0)
        let agent = try agent("workers = 1\nprime = 1\nqueue_size = 1\nreply_timeout = 10s\non_overload = deny") { _ in
            _ = release.wait(timeout: .now() + .seconds(10))
            return Decision(verdict: .allow, rule: nil)
        }
        for name in ["a", "b", "c"] { kernel.access(dir + "/" + name) }
        // One event is with the worker, one waits in the queue: the third finds it full.
        XCTAssertTrue(eventually { kernel.events.contains { $0.answer == .deny } })
        XCTAssertTrue(kernel.events.contains { $0.answer == .deny }, "on_overload answered without waiting")
        release.signal()
        release.signal()
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.filter { $0.answer == .allow }.count + kernel.events.filter { $0.answer == .deny }.count, 3)
        XCTAssertGreaterThan(agent.counters[.overloaded], 0)
        stop(agent)
    }

    func testAReloadAnswersLaterEventsByTheNewPolicy() throws {
        let agent = try agent("allow all : all")
        kernel.access(dir + "/a")
        XCTAssertTrue(kernel.waitUntilSettled())
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ndeny all : path=\(dir)/a\n".utf8), file: "test.policy"))
        kernel.access(dir + "/a")
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.map(\.answer), [.allow, .deny])
        // A switch to observe mode moves to a notification group, and back.
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\nmode = observe\ndeny all : all\n".utf8), file: "test.policy"))
        kernel.access(dir + "/a")
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ndeny all : all\n".utf8), file: "test.policy"))
        kernel.access(dir + "/b")
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.last?.answer, .deny)
        stop(agent)
    }

    func testAStopAnswersEveryEventInFlightAndNothingAfterTheClose() throws {
        let release = DispatchSemaphore(value: 0)
        let agent = try agent("workers = 2\nreply_timeout = 50ms\non_timeout = deny") { _ in
            _ = release.wait(timeout: .now() + .seconds(10))
            return Decision(verdict: .allow, rule: nil)
        }
        for name in ["a", "b", "c", "allowed", "denied"] { kernel.access(dir + "/" + name) }
        agent.stop()  // workers stuck: each event in flight is answered on_timeout before the group closes
        XCTAssertTrue(kernel.waitUntilSettled(timeout: .seconds(1)))
        XCTAssertTrue(kernel.events.allSatisfy { $0.answer == .deny || $0.allowedByClose }, "\(kernel.events)")
        for _ in 0..<4 { release.signal() }
        XCTAssertEqual(kernel.violations, [])
        XCTAssertEqual(kernel.refusedAfterClose, 0, "every event was answered before the group closed")
        XCTAssertEqual(agent.counters[.responses], agent.counters[.events])
    }

    /// The stop race: the port's clock stands still, so no timeout answers the
    /// events the stuck workers hold; the stop closes the group at its grace
    /// deadline with them in flight, then disconnects the workers, which
    /// settles them: each answer comes after the close and is refused with
    /// nothing written, and the close allowed each event once.
    func testAnAnswerAfterTheGroupClosedIsNeverWritten() throws {
        let release = DispatchSemaphore(value: 0)
        let clock = ManualClock()
        let agent = try agent("workers = 3\nreply_timeout = 50ms\non_timeout = deny", clock: clock) { _ in
            _ = release.wait(timeout: .now() + .seconds(10))
            return Decision(verdict: .allow, rule: nil)
        }
        for name in ["a", "b", "c"] { kernel.access(dir + "/" + name) }
        XCTAssertTrue(eventually { agent.counters[.events] >= 3 })
        XCTAssertEqual(agent.counters[.events], 3, "the reader took all three")
        agent.stop()
        XCTAssertTrue(kernel.events.allSatisfy { $0.allowedByClose && $0.answer == nil }, "\(kernel.events)")
        XCTAssertEqual(kernel.refusedAfterClose, 3, "each late settlement was refused, nothing written")
        XCTAssertEqual(kernel.violations, [])
        XCTAssertEqual(agent.counters[.responses], 3, "still exactly one settlement per event")
        for _ in 0..<3 { release.signal() }
    }

    func testPermissiveAndObserveModesDecideAndLogButNeverDeny() throws {
        for mode in ["permissive", "observe"] {
            let agent = try agent("mode = \(mode)\ndeny_log perm=any all : all")
            XCTAssertEqual(answers([sandbox.path("denied")]), [mode == "observe" ? nil : .allow], mode)
            XCTAssertEqual(answers([sandbox.path("denied")], .execute), [mode == "observe" ? nil : .allow], mode)
            // Observe mode's notifications are due no answer: wait for the agent to have decided them.
            XCTAssertTrue(eventually { agent.counters[.wouldDeny] >= 2 }, mode)
            stop(agent)
            XCTAssertEqual(agent.counters[.wouldDeny], 2, mode)
            XCTAssertEqual(agent.counters[.denied], 0, mode)
        }
        XCTAssertEqual(kernel.events.map(\.notification), [false, false, true, true])
    }

    /// A worker stuck on one event holds up no other while other workers are idle.
    func testOneStuckWorkerHoldsNoOtherEventWhileTheOthersAreIdle() throws {
        let stuck = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        // The port's clock stands still: no timeout can answer anything.
        let agent = try agent("workers = 4\ndeny perm=open all : path=$DIR/denied", clock: ManualClock()) { request in
            if request.object.path.map({ $0.suffix(5).elementsEqual("/slow".utf8) }) ?? false {
                stuck.signal()
                _ = release.wait(timeout: .now() + .seconds(10))
            }
            return Policy.denyPath(request, suffix: "/denied")
        }
        kernel.access(dir + "/slow")
        XCTAssertEqual(stuck.wait(timeout: .now() + .seconds(10)), .success, "a worker is deciding it")
        XCTAssertEqual(answers([sandbox.path("denied"), sandbox.path("allowed")]), [.deny, .allow], "decided by idle workers")
        XCTAssertNil(kernel.events[0].answer, "the stuck one is still unanswered")
        release.signal()
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events[0].answer, .allow)
        stop(agent)
    }

    /// Regression: large binaries under a sha256hash rule outlasted the reply
    /// timeout and ran, because on_timeout = allow answered them, and the log
    /// named no file. Executions get on_timeout_execute (deny by default).
    func testASlowDecisionNeverRunsAProgramAndNamesTheFile() throws {
        let release = DispatchSemaphore(value: 0)
        let log = LogCapture()
        let agent = try startAgent("watch = $ROOT\nreply_timeout = 100ms\non_timeout = allow", logger: log.logger) { _ in
            _ = release.wait(timeout: .now() + .seconds(10))
            return Decision(verdict: .allow, rule: nil)
        }
        defer { for _ in 0..<2 { release.signal() } }
        let opener = Child([openerPath, "pause"])
        XCTAssertTrue(opener.waitForOutput(containing: "ready"))
        defer { kill(opener.pid, SIGKILL); _ = opener.wait() }
        XCTAssertEqual(answers([sandbox.path("slow")], .execute, pid: opener.pid), [.deny], "on_timeout_execute = deny by default")
        XCTAssertEqual(answers([sandbox.path("a")], pid: opener.pid), [.allow], "on_timeout = allow still answers opens")
        let entry = try XCTUnwrap(log.wait { $0.message.hasPrefix("deny execute \(dir)/slow") }, "\(log.all.map(\.message))")
        XCTAssertTrue(entry.message.contains(" by \(openerPath)["), entry.message)
        XCTAssertTrue(entry.message.hasSuffix("setting=on_timeout_execute (no decision within reply_timeout 0.1 seconds)"), entry.message)
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("allow open \(dir)/a") }, "a timeout that let a file through names it")
        stop(agent)
    }

    /// Regression: an event that found the queue full was answered (on_overload:
    /// allow for opens by default) with only a count in the log, so an open of a
    /// file a rule denies, let through while a flood of other events filled the
    /// queue, left no trace of which file. Each one is logged as a timeout is.
    func testAnOverloadThatLetAFileThroughNamesIt() throws {
        let release = DispatchSemaphore(value: 0)
        let log = LogCapture()
        let denied = sandbox.path("denied")
        let agent = try startAgent("watch = $ROOT\nworkers = 1\nprime = 1\nqueue_size = 1\nqueue_per_user = 0\nreply_timeout = 10s\ndeny perm=open all : path=$ROOT/denied",
                                   logger: log.logger) { request in
            if request.object.path != denied {
                _ = release.wait(timeout: .now() + .seconds(10))
            }
            return Decision(verdict: .allow, rule: nil)
        }
        defer { for _ in 0..<2 { release.signal() } }
        // The first holds the one worker and the queue has room for one: the open of the denied file finds it full.
        kernel.access(dir + "/a")
        kernel.access(dir + "/b")
        kernel.access(dir + "/denied")
        let entry = try XCTUnwrap(log.wait { $0.message.hasPrefix("allow open \(dir)/denied") }, "\(log.all.map(\.message))")
        XCTAssertTrue(entry.message.hasSuffix("setting=on_overload (the queue already held queue_size 1 events)"), entry.message)
        XCTAssertEqual(entry.metadata["MESSAGE_ID"]?.description, "683db364adb347c98bdeb8bacf9b588e")
        XCTAssertTrue(eventually { kernel.events.last?.answer == .allow }, "on_overload = allow by default for opens")
        release.signal()
        release.signal()
        XCTAssertTrue(kernel.waitUntilSettled())
        stop(agent)
    }

    func testAReloadMovesTheMarksAndAFailedOneKeepsThem() throws {
        let other = try Sandbox(unmountedIn: "/tmp")  // another filesystem than /dev/shm
        defer { other.remove() }
        let there = other.file("secret")
        let agent = try agent("deny all : all")
        XCTAssertEqual(kernel.marks, ["add filesystem \(dir)"])

        let notes = try agent.reload(try policy("watch = \(other.root)\nworkers = 9\ndeny all : all", in: sandbox))
        XCTAssertEqual(notes, ["workers changed: it takes effect on restart"])
        XCTAssertEqual(kernel.marks, ["add filesystem \(dir)", "add filesystem \(other.root)", "remove filesystem \(dir)"],
                       "marks follow watch")
        XCTAssertEqual(answers([there]), [.deny])

        _ = try agent.reload(try policy("watch = \(other.root)\nmode = observe\ndeny all : all", in: sandbox))
        XCTAssertEqual(agent.watched.map { String(decoding: $0.path, as: UTF8.self) }, [other.root])
        XCTAssertEqual(answers([there]), [nil], "observe mode: a notification group, no answer due")
        _ = try agent.reload(try policy("watch = \(other.root)\ndeny all : all", in: sandbox))
        XCTAssertEqual(answers([there]), [.deny], "back to enforce on a permission group")
        XCTAssertEqual(kernel.marks.suffix(2), ["add filesystem \(other.root)", "add filesystem \(other.root)"],
                       "each mode's new group is marked")

        let before = kernel.marks
        XCTAssertThrowsError(try agent.reload(try policy("watch = /proc/self\nallow all : all", in: sandbox)),
                             "the agent reads /proc to decide: a reload may not watch it either")
        XCTAssertEqual(kernel.marks, before, "a reload that fails changes no mark")
        XCTAssertEqual(answers([there]), [.deny], "and keeps the running policy")

        _ = try agent.reload(try policy("watch = \(other.root)\nwatch = \(other.root)/missing\ndeny all : all", in: sandbox))
        XCTAssertEqual(kernel.marks, before + ["add filesystem \(other.root)"], "a path that does not exist is not marked, and the reload holds")
        XCTAssertEqual(agent.watched.map { $0.device == nil }, [false, true])
        stop(agent)
        XCTAssertEqual(agent.counters[.reloads], 4)
    }

    /// Reloads while three processes open files as fast as they are answered:
    /// every event is answered exactly once, and the last policy is in force.
    func testReloadsUnderLoadAnswerEveryEventOnce() throws {
        let files = (0..<10).map { sandbox.file("flip/\($0)") }
        let allow = try policy("watch = $ROOT\nallow all : all", in: sandbox)
        let deny = try policy("watch = $ROOT\ndeny all : dir=$ROOT/flip/", in: sandbox)
        let agent = try Agent(policy: allow, logger: quietLogger(), kernel: kernel.groups, portClock: SystemClock())
        agent.start()
        let openers = DispatchGroup()
        let kernel = self.kernel!
        for opener in 0..<3 {
            DispatchQueue.global().async(group: openers) {
                for i in 0..<2000 {
                    let index = kernel.access(files[(i + opener) % files.count], pid: 1)
                    _ = eventually { kernel.event(index).settled }
                }
            }
        }
        for i in 0..<40 { _ = try agent.reload(i % 2 == 0 ? deny : allow) }
        _ = try agent.reload(deny)
        XCTAssertEqual(openers.wait(timeout: .now() + .seconds(120)), .success)
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(answers([files[0]]), [.deny], "the last policy is in force")
        stop(agent)
        XCTAssertEqual(kernel.events.count, 6001)
        XCTAssertTrue(kernel.events.allSatisfy { $0.answer != nil }, "every event answered by a policy")
        XCTAssertEqual(agent.counters[.reloads], 41)
    }

    func testTheAgentsOwnOpensAreAllowedWithoutAWorker() throws {
        let decided = Atomic<Int>(0)
        let agent = try agent("deny all : all") { request in
            decided.add(1, ordering: .relaxed)
            return Decision(verdict: .deny, rule: nil)
        }
        kernel.access(dir + "/denied", pid: getpid())
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.map(\.answer), [.allow], "the agent's own process is never blocked")
        stop(agent)
        XCTAssertEqual(agent.counters[.ownProcess], 1)
        XCTAssertEqual(decided.load(ordering: .relaxed), 0)
    }

    func testTheAgentsCacheAnswersARepeatAndDecidesAModifiedFileAfresh() throws {
        let grows = dir + "/grows"
        _ = FileManager.default.createFile(atPath: grows, contents: Data("small\n".utf8))
        let agent = try agent("cache = user\ndeny perm=open all : dir=$DIR/ size>10")
        func answers(_ n: Int) -> [Verdict?] {
            for _ in 0..<n { kernel.access(grows) }
            XCTAssertTrue(kernel.waitUntilSettled())
            return kernel.events.suffix(n).map(\.answer)
        }
        XCTAssertEqual(answers(3), [.allow, .allow, .allow])
        XCTAssertEqual(agent.counters[.cacheMisses], 1)
        XCTAssertEqual(agent.counters[.cacheHits], 2)
        _ = FileManager.default.createFile(atPath: grows, contents: Data("no longer small\n".utf8))
        XCTAssertEqual(answers(2), [.deny, .deny], "a modified file is decided afresh")
        XCTAssertEqual(agent.counters[.cacheMisses], 2)
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ncache = user\nallow all : all\n".utf8), file: "test.policy"))
        XCTAssertEqual(answers(2), [.allow, .allow], "a reload starts with an empty cache")
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ncache = user\ndeny all : path=\(grows)\n".utf8), file: "test.policy"))
        XCTAssertEqual(answers(1), [.deny], "the cached allow went with the old policy")
        stop(agent)
    }

    /// One event at a time: the reader decides it itself, through the port,
    /// with no worker woken; under a policy that hashes files, only once the
    /// file's digest is known (hashing may wait until the event's deadline,
    /// and the reader must keep reading: that first decision goes to a
    /// spill thread), and a reload switches between the two.
    func testTheReaderDecidesALoneEventItselfUnlessItWouldWait() throws {
        let agent = try agent("deny perm=open all : path=$DIR/denied")
        XCTAssertEqual(answers((0..<20).map { sandbox.path($0 % 2 == 0 ? "allowed" : "denied") }),
                       (0..<20).map { $0 % 2 == 0 ? .allow : .deny })
        XCTAssertGreaterThan(agent.counters[.readerDecided], 0, "\(agent.counters.summary)")
        _ = try agent.reload(try policy("watch = $ROOT\ndeny all : sha256hash=\(String(repeating: "0", count: 64))\nallow all : all", in: sandbox))
        let before = agent.counters[.readerDecided]
        XCTAssertEqual(answers([sandbox.path("a")]), [.allow])
        XCTAssertEqual(agent.counters[.readerDecided], before, "a file not hashed yet: not by the reader")
        XCTAssertEqual(agent.counters[.filesHashed], 1)
        XCTAssertEqual(answers((0..<10).map { _ in sandbox.path("a") }), Array(repeating: .allow, count: 10))
        XCTAssertGreaterThan(agent.counters[.readerDecided], before, "its digest known: the reader decides")
        XCTAssertEqual(agent.counters[.filesHashed], 1)
        _ = try agent.reload(try policy("watch = $ROOT\ndeny all : path=$ROOT/denied", in: sandbox))
        XCTAssertEqual(answers((0..<10).map { _ in sandbox.path("denied") }), Array(repeating: .deny, count: 10))
        XCTAssertGreaterThan(agent.counters[.readerDecided], before)
        // A batch of many: the reader decides a few in turn, workers the rest; each answered once.
        for i in 0..<40 { kernel.access(dir + (i % 2 == 0 ? "/allowed" : "/denied")) }
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.suffix(40).map(\.answer), (0..<40).map { $0 % 2 == 0 ? .allow : .deny })
        stop(agent)
    }

    /// With a decide hook (an in-process decider that may take any time) the
    /// reader never decides: a stuck decision holds no other event.
    func testTheReaderNeverRunsADecideHook() throws {
        let agent = try agent("allow all : all") { _ in Decision(verdict: .allow, rule: nil) }
        XCTAssertEqual(answers((0..<10).map { _ in sandbox.path("a") }), Array(repeating: .allow, count: 10))
        XCTAssertEqual(agent.counters[.readerDecided], 0)
        stop(agent)
    }
}
