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
final class ScriptedAgentTests: XCTestCase {
    private var dir = ""
    private let kernel = ScriptedKernel()

    override func setUpWithError() throws {
        var template = Array("/tmp/fanfilter-scripted.XXXXXX".utf8CString)
        guard let d = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        dir = String(cString: d)
        for name in ["allowed", "denied", "slow", "a", "b", "c"] {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data("x".utf8))
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func agent(_ text: String, clock: any MonotonicClock = SystemClock(),
                       decide: (@Sendable (AccessRequest) -> Decision)? = nil) throws -> Agent {
        let policy = try Policy.parse(Array(("watch = \(dir)\n" + text).replacingOccurrences(of: "$DIR", with: dir).utf8), file: "scripted")
        let agent = try Agent(policy: policy, logger: quietLogger(), decide: decide, kernel: kernel.groups, portClock: clock)
        agent.start()
        return agent
    }

    /// Stops the agent and checks, as the kernel saw it, that each event got exactly one answer.
    private func stopAndCheck(_ agent: Agent, file: StaticString = #filePath, line: UInt = #line) {
        agent.stop()
        XCTAssertEqual(kernel.violations, [], file: file, line: line)
        XCTAssertEqual(agent.counters[.responses], agent.counters[.events], "one answer per event read", file: file, line: line)
        XCTAssertEqual(agent.unansweredEvents, 0, file: file, line: line)
    }

    func testEveryEventIsAnsweredOnceByThePolicy() throws {
        let agent = try agent("deny perm=open all : path=$DIR/denied")
        for i in 0..<200 { kernel.access(dir + (i % 2 == 0 ? "/allowed" : "/denied")) }
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.map { $0.answer }, (0..<200).map { $0 % 2 == 0 ? .allow : .deny })
        XCTAssertEqual(kernel.marks, ["add filesystem \(dir)"])
        stopAndCheck(agent)
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
        for _ in 0..<1000 where agent.counters[.lateReplies] == 0 { usleep(1_000) }
        XCTAssertEqual(agent.counters[.lateReplies], 1)
        XCTAssertEqual(agent.counters[.timedOut], 1)
        stopAndCheck(agent)
    }

    func testAFullQueueIsAnsweredAtOnceAndEveryEventStillOnce() throws {
        let release = DispatchSemaphore(value: 0)
        let agent = try agent("workers = 1\nprime = 1\nqueue_size = 1\nreply_timeout = 10s\non_overload = deny") { _ in
            _ = release.wait(timeout: .now() + .seconds(10))
            return Decision(verdict: .allow, rule: nil)
        }
        for name in ["a", "b", "c"] { kernel.access(dir + "/" + name) }
        // One event is with the worker, one waits in the queue: the third finds it full.
        for _ in 0..<5000 where !kernel.events.contains(where: { $0.answer == .deny }) { usleep(1_000) }
        XCTAssertTrue(kernel.events.contains { $0.answer == .deny }, "on_overload answered without waiting")
        release.signal()
        release.signal()
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.filter { $0.answer == .allow }.count + kernel.events.filter { $0.answer == .deny }.count, 3)
        XCTAssertGreaterThan(agent.counters[.overloaded], 0)
        stopAndCheck(agent)
    }

    func testAReloadAnswersLaterEventsByTheNewPolicy() throws {
        let agent = try agent("allow all : all")
        kernel.access(dir + "/a")
        XCTAssertTrue(kernel.waitUntilSettled())
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ndeny all : path=\(dir)/a\n".utf8), file: "scripted"))
        kernel.access(dir + "/a")
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.map(\.answer), [.allow, .deny])
        // A switch to observe mode moves to a notification group, and back.
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\nmode = observe\ndeny all : all\n".utf8), file: "scripted"))
        kernel.access(dir + "/a")
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ndeny all : all\n".utf8), file: "scripted"))
        kernel.access(dir + "/b")
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.last?.answer, .deny)
        stopAndCheck(agent)
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
        for _ in 0..<5000 where agent.counters[.events] < 3 { usleep(1_000) }
        XCTAssertEqual(agent.counters[.events], 3, "the reader took all three")
        agent.stop()
        XCTAssertTrue(kernel.events.allSatisfy { $0.allowedByClose && $0.answer == nil }, "\(kernel.events)")
        XCTAssertEqual(kernel.refusedAfterClose, 3, "each late settlement was refused, nothing written")
        XCTAssertEqual(kernel.violations, [])
        XCTAssertEqual(agent.counters[.responses], 3, "still exactly one settlement per event")
        for _ in 0..<3 { release.signal() }
    }

    func testPermissiveModeDecidesAndLogsButAllows() throws {
        let agent = try agent("mode = permissive\ndeny_log perm=open all : path=$DIR/denied")
        kernel.access(dir + "/denied")
        XCTAssertTrue(kernel.waitUntilSettled())
        XCTAssertEqual(kernel.events.map(\.answer), [.allow])
        stopAndCheck(agent)
        XCTAssertEqual(agent.counters[.wouldDeny], 1)
        XCTAssertEqual(agent.counters[.denied], 0)
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
        stopAndCheck(agent)
        XCTAssertEqual(agent.counters[.ownProcess], 1)
        XCTAssertEqual(decided.load(ordering: .relaxed), 0)
    }

    func testTheAgentsCacheAnswersARepeatAndDecidesAModifiedFileAfresh() throws {
        let grows = dir + "/grows"
        FileManager.default.createFile(atPath: grows, contents: Data("small\n".utf8))
        let agent = try agent("cache = user\ndeny perm=open all : dir=$DIR/ size>10")
        func answers(_ n: Int) -> [Verdict?] {
            for _ in 0..<n { kernel.access(grows) }
            XCTAssertTrue(kernel.waitUntilSettled())
            return kernel.events.suffix(n).map(\.answer)
        }
        XCTAssertEqual(answers(3), [.allow, .allow, .allow])
        XCTAssertEqual(agent.counters[.cacheMisses], 1)
        XCTAssertEqual(agent.counters[.cacheHits], 2)
        FileManager.default.createFile(atPath: grows, contents: Data("no longer small\n".utf8))
        XCTAssertEqual(answers(2), [.deny, .deny], "a modified file is decided afresh")
        XCTAssertEqual(agent.counters[.cacheMisses], 2)
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ncache = user\nallow all : all\n".utf8), file: "scripted"))
        XCTAssertEqual(answers(2), [.allow, .allow], "a reload starts with an empty cache")
        _ = try agent.reload(try Policy.parse(Array("watch = \(dir)\ncache = user\ndeny all : path=\(grows)\n".utf8), file: "scripted"))
        XCTAssertEqual(answers(1), [.deny], "the cached allow went with the old policy")
        stopAndCheck(agent)
    }
}
