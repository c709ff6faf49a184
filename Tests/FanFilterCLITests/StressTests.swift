import Foundation
import Glibc
import TestSupport
import XCTest

/// `make stress` (FANFILTER_STRESS=full) and its bounded subset in make test:
/// the agent as the service runs it (`fanfilter run`, default caches, the
/// reader deciding), under storms of opens from child processes, with
/// deciders that stall by policy, reloads, signals. Every scenario checks:
/// every opener returned within its bound (no hang); every answer is the
/// policy's, or the setting's that the counters account for (no wrong
/// answer); every event read got exactly one response (events = responses,
/// and the debug build's ledger crashes the agent on a second answer); the
/// kernel denied nothing behind the agent's back; the agent's peak RSS. Each
/// prints one `stress:` line with its counts (docs/testing.md has a full run's).
final class StressTests: XCTestCase {
    var sandbox: Sandbox!

    override func setUpWithError() throws { sandbox = try Sandbox() }
    override func tearDown() { sandbox?.remove() }

    static let full = getenv("FANFILTER_STRESS").map { String(cString: $0) == "full" } ?? false

    /// How many openers, opens each, and files (a third of them denied).
    struct Load {
        var openers: Int
        var opens: Int
        var files: Int
    }

    static let storm = full ? Load(openers: 8, opens: 100_002, files: 10_002) : Load(openers: 4, opens: 6_000, files: 300)
    static let crowd = full ? Load(openers: 64, opens: 12_000, files: 10_002) : Load(openers: 16, opens: 1_500, files: 300)
    static let asked = full ? Load(openers: 8, opens: 30_000, files: 3_000) : Load(openers: 4, opens: 1_500, files: 150)
    static let opener = [UInt8](openerPath.utf8)

    /// The files: two allowed, then one denied (in d/), over and over, so
    /// that an opener going round them meets a denied file every third open.
    func files(_ count: Int) -> [[UInt8]] {
        (0..<count).map { i in sandbox.file(i % 3 == 2 ? "d/\(i)" : "a/\(i)") }
    }

    /// Starts `fanfilter run` on `rules` (after `watch` and the port socket),
    /// through `launcher` when given; waits until it denies.
    func startAgent(_ rules: String, name: String = "policy", launcher: [String] = []) -> (agent: Child, policy: String) {
        let denied = sandbox.file("d/probe")
        let text = "watch = \(sandbox.root)\nport_socket = \(sandbox.root)/port\n" + rules
        let policy = String(decoding: sandbox.file(name, contents: Array(text.utf8)), as: UTF8.self)
        let agent = Child(launcher + [fanfilterPath, "run", "--policy", policy, "--log-target", "stderr"], mergeStderr: true)
        XCTAssertTrue(agent.waitForOutput(containing: "started: "), "the agent started")
        XCTAssertEqual(openFromChild([denied]), ["EPERM"], "the agent denies")
        return (agent, policy)
    }

    /// `load.openers` children, each opening `load.opens` times round `files`.
    func storm(_ load: Load, _ files: [[UInt8]]) -> [Child] {
        (0..<load.openers).map { _ in Child([Self.opener, Array("loop".utf8), Array(String(load.opens).utf8)] + files) }
    }

    struct Tally {
        var ok = 0, eperm = 0, other = 0, hangs = 0
    }

    /// Waits for every opener, within `bound`; sums what they were answered.
    func collect(_ openers: [Child], bound: Duration = .seconds(600)) -> Tally {
        var tally = Tally()
        for r in openers.map({ $0.wait(timeout: bound) }) {
            if r.hung { tally.hangs += 1 }
            for word in r.output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                let kv = word.split(separator: "=")
                guard kv.count == 2, let n = Int(kv[1]) else { continue }
                switch kv[0] {
                case "ok": tally.ok += n
                case "eperm": tally.eperm += n
                default: tally.other += n
                }
            }
        }
        return tally
    }

    /// The agent's peak resident size, KiB.
    func peakRSS(_ agent: Child) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(agent.pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) } ?? 0
    }

    /// Stops the agent with SIGTERM and checks its counters; prints the scenario's line.
    @discardableResult
    func stop(_ agent: Child, _ name: String, _ tally: Tally, rss: Int,
              file: StaticString = #filePath, line: UInt = #line) -> [String: UInt64] {
        kill(agent.pid, SIGTERM)
        // A child's wait is bounded from its start: 30 s from now.
        let r = agent.wait(timeout: ContinuousClock.now - agent.started + .seconds(30))
        XCTAssertFalse(r.hung, "\(name): the agent stops within 30 s of SIGTERM", file: file, line: line)
        XCTAssertEqual(r.status, 0, "\(name): \(r.output.suffix(2000))", file: file, line: line)
        let c = stopCounters(r.output)
        XCTAssertEqual(c["events"], c["responses"], "\(name): one response per event", file: file, line: line)
        XCTAssertEqual(c["kernel-denied"], 0, "\(name): the kernel denied nothing behind the agent's back", file: file, line: line)
        XCTAssertEqual(tally.hangs, 0, "\(name): no opener hung", file: file, line: line)
        XCTAssertEqual(tally.other, 0, "\(name): every open was allowed or denied", file: file, line: line)
        XCTAssertLessThan(rss, 256 * 1024, "\(name): the agent's memory stayed bounded", file: file, line: line)
        print("stress: \(name): opens \(tally.ok + tally.eperm + tally.other), events \(c["events"] ?? 0), "
              + "responses \(c["responses"] ?? 0), allowed \(tally.ok), denied \(tally.eperm), other \(tally.other), "
              + "hangs \(tally.hangs), timed-out \(c["timed-out"] ?? 0), overloaded \(c["overloaded"] ?? 0), "
              + "client-gone \(c["client-gone"] ?? 0), kernel-denied \(c["kernel-denied"] ?? 0), peak RSS \(rss) KiB")
        return c
    }

    /// A third of the opens denied by a rule: exactly that third, whatever the caches did.
    func storm(_ name: String, _ load: Load) {
        let files = files(load.files)
        let (agent, _) = startAgent("workers = 2\ndeny perm=open all : dir=\(sandbox.root)/d/\n")
        let tally = collect(storm(load, files))
        let rss = peakRSS(agent)
        XCTAssertEqual(tally.eperm, load.openers * load.opens / 3, "\(name): every third open denied")
        XCTAssertEqual(tally.ok, load.openers * load.opens * 2 / 3, "\(name): the others allowed")
        stop(agent, name, tally, rss: rss)
    }

    func testAStormOfOpensIsAnsweredExactlyOnceAndRight() { storm("storm", Self.storm) }

    func testACrowdOfOpenersIsAnsweredExactlyOnceAndRight() { storm("crowd", Self.crowd) }

    /// The denied third goes to a client through the port; with stalls longer
    /// than reply_timeout on a share of them, what the client did not answer
    /// in time gets on_timeout (allow), counted: denied + timed out = the third.
    /// Under emulation the timeout and the stalls stretch alike (testTimeScale).
    func testAClientDecidingAShareWithStallsIsAnsweredExactlyOnce() throws {
        for (name, share) in [("client", "0"), ("client stalling 300 ms on 1 % of messages", "0.01")] {
            let files = files(Self.asked.files)
            let (agent, _) = startAgent("""
            reply_timeout = \(100 * testTimeScale)ms
            on_no_client = deny
            ask perm=open all : dir=\(sandbox.root)/d/
            """, name: "policy-\(share)")
            let decider = Child(["/usr/bin/python3", staged(PortClients.stallingDecider), sandbox.root + "/port", share, String(300 * testTimeScale)],
                                mergeStderr: true)
            XCTAssertTrue(decider.waitForOutput(containing: "ready"), "the decider connected")
            let tally = collect(storm(Self.asked, files))
            let rss = peakRSS(agent)
            let c = stop(agent, name, tally, rss: rss)
            let third = Self.asked.openers * Self.asked.opens / 3
            XCTAssertEqual(UInt64(tally.eperm) + (c["timed-out"] ?? 0), UInt64(third), "\(name): denied by the client, or timed out")
            if share == "0" { XCTAssertEqual(tally.eperm, third, "\(name): no stall, no timeout") }
            kill(decider.pid, SIGKILL)
            _ = decider.wait()
        }
    }

    /// The policy flips every 50 ms during a storm, a 20,000-rule one among
    /// the flips: each open of an always-allowed file is allowed, each of a
    /// file only one policy denies is answered by one of the two.
    func testAReloadStormAnswersEveryOpenByOneOfThePolicies() throws {
        let allowed = (0..<30).map { sandbox.file("a/r\($0)") }
        let flipping = (0..<30).map { sandbox.file("d/r\($0)") }
        // Every open reaches the agent (no cache), so the storm lasts through the flips.
        let deny = "cache = off\ndeny perm=open all : dir=\(sandbox.root)/d/\n"
        var big = ""
        for i in 0..<20_000 { big += "deny perm=open uid=\(100_000 + i) : path=\(sandbox.root)/x\(i)\n" }
        let (agent, policy) = startAgent(deny)
        let texts = [deny, "cache = off\nallow perm=open all : all\n", big + deny]
        let load = Load(openers: 2, opens: Self.full ? 150_000 : 15_000, files: 30)
        let steady = storm(load, allowed)
        let flipped = storm(load, flipping)
        var flips = 0
        let head = "watch = \(sandbox.root)\nport_socket = \(sandbox.root)/port\n"
        while flips < (Self.full ? 400 : 40) {
            let text = head + texts[flips % texts.count]
            _ = FileManager.default.createFile(atPath: policy + ".new", contents: Data(text.utf8))
            rename(policy + ".new", policy)
            kill(agent.pid, SIGHUP)
            flips += 1
            usleep(50_000)
        }
        let calm = collect(steady)
        let mixed = collect(flipped)
        XCTAssertEqual(calm.eperm, 0, "an always-allowed file was never denied")
        XCTAssertEqual(mixed.ok + mixed.eperm, load.openers * load.opens)
        var tally = calm
        tally.ok += mixed.ok
        tally.eperm += mixed.eperm
        tally.other += mixed.other
        tally.hangs += mixed.hangs
        let c = stop(agent, "reload storm (\(flips) reloads)", tally, rss: peakRSS(agent))
        XCTAssertGreaterThan(c["reloads"] ?? 0, 0)
    }

    /// An agent with no cache (every open reaches it) under a storm, sent `signal` 200 ms into it.
    func signalMidStorm(_ signal: Int32) -> (agent: Child, load: Load, files: [[UInt8]], openers: [Child]) {
        let files = files(300)
        let (agent, _) = startAgent("cache = off\ndeny perm=open all : dir=\(sandbox.root)/d/\n")
        let load = Load(openers: 4, opens: Self.full ? 60_000 : 6_000, files: 300)
        let openers = storm(load, files)
        usleep(200_000)  // not to synchronise: the signal must come while the openers are at it
        kill(agent.pid, signal)
        return (agent, load, files, openers)
    }

    /// SIGSTOP for 3 s mid-storm, then SIGCONT: the openers wait, then every
    /// one is answered, once. SIGTERM mid-storm: a clean exit, all answered.
    func testSIGSTOPAndSIGTERMMidStormLoseNoAnswer() throws {
        let (agent, load, files, openers) = signalMidStorm(SIGSTOP)
        sleep(3)
        kill(agent.pid, SIGCONT)
        let tally = collect(openers)
        XCTAssertEqual(tally.eperm, load.openers * load.opens / 3)
        let rss = peakRSS(agent)
        // And SIGTERM while a second storm is under way.
        let second = storm(load, files)
        usleep(200_000)
        let c = stop(agent, "SIGSTOP 3 s, then SIGTERM mid-storm", tally, rss: rss)
        XCTAssertGreaterThan(c["events"] ?? 0, UInt64(load.openers * load.opens), "the second storm reached the agent")
        let after = collect(second)
        XCTAssertEqual(after.hangs, 0)
        XCTAssertEqual(after.other, 0, "opens after the stop are the kernel's own (allowed)")
    }

    /// SIGKILL mid-storm: the group closes with the agent, and the kernel
    /// allows what waited: every opener returns.
    func testSIGKILLMidStormLeavesNoOpenerWaiting() throws {
        let (agent, load, _, openers) = signalMidStorm(SIGKILL)
        let r = agent.wait(timeout: ContinuousClock.now - agent.started + .seconds(10))
        XCTAssertFalse(r.hung)
        let tally = collect(openers, bound: .seconds(120))
        XCTAssertEqual(tally.hangs, 0, "every opener returned")
        XCTAssertEqual(tally.other, 0)
        XCTAssertEqual(tally.ok + tally.eperm, load.openers * load.opens)
        print("stress: SIGKILL mid-storm: opens \(tally.ok + tally.eperm), allowed \(tally.ok), denied \(tally.eperm) "
              + "(denied only while the agent lived), hangs \(tally.hangs)")
    }
}

extension StressTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fuzz").standardized.path

    /// The policy corpus's rules and sets (its settings left out: a corpus
    /// `watch` would mark a filesystem the machine uses), mutated by random
    /// bytes, reloaded one after the other under a storm, and the port frame
    /// corpus and its mutations sent on connections of their own: the agent
    /// takes or refuses each and never stops answering the storm right
    /// (the storm's files are decided by the two rules before the corpus's).
    func testTheHostileCorporaReplayedUnderAStormChangeNoAnswer() throws {
        let files = files(300)
        let (agent, policy) = startAgent("cache = off\ndeny perm=open all : dir=\(sandbox.root)/d/\n")
        let head = """
        watch = \(sandbox.root)
        port_socket = \(sandbox.root)/port
        cache = off
        deny perm=open all : dir=\(sandbox.root)/d/
        allow perm=open all : dir=\(sandbox.root)/a/

        """
        let corpus = try FileManager.default.contentsOfDirectory(atPath: Self.fuzzFolder + "/corpus").sorted().map { name in
            Self.rulesOnly((try? String(contentsOfFile: Self.fuzzFolder + "/corpus/" + name, encoding: .utf8)) ?? "")
        }
        let load = Load(openers: 4, opens: Self.full ? 75_000 : 15_000, files: 300)
        let openers = storm(load, files)
        let frames = Child(["/usr/bin/python3", staged(PortClients.hostileFrames), sandbox.root + "/port",
                            Self.fuzzFolder + "/port-corpus", Self.full ? "10" : "3", "7"], mergeStderr: true)
        var generator = SystemRandomNumberGenerator()
        var reloads = 0
        for round in 0..<(Self.full ? 200 : 20) {
            var bytes = Array(corpus[round % corpus.count].utf8)
            for _ in 0..<(round % 4) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            // A mutation that made a line into a setting is left out too.
            let text = Self.rulesOnly(String(decoding: bytes, as: UTF8.self))
            _ = FileManager.default.createFile(atPath: policy + ".new", contents: Data((head + text + "\n").utf8))
            rename(policy + ".new", policy)
            kill(agent.pid, SIGHUP)
            reloads += 1
            usleep(50_000)
        }
        let sent = frames.wait(timeout: .seconds(900))
        XCTAssertFalse(sent.hung, "the frames' client finished: \(sent.output)")
        XCTAssertTrue(sent.output.hasPrefix("connections "), sent.output)
        let tally = collect(openers)
        XCTAssertEqual(tally.eperm, load.openers * load.opens / 3, "every third open denied, whatever was reloaded")
        XCTAssertEqual(tally.ok, load.openers * load.opens * 2 / 3)
        stop(agent, "hostile corpora (\(reloads) mutated policies, \(sent.output.split(separator: " ").dropFirst().first ?? "?") frames)",
             tally, rss: peakRSS(agent))
    }
}

extension StressTests {
    /// A policy's rules, sets and comments, without its settings (a line with
    /// no `:` that is not a set or a comment), nor any line that starts with
    /// the name of a setting that reaches outside the test (watch, include…).
    static func rulesOnly(_ text: String) -> String {
        let reaching = ["watch", "include", "rules_dir", "port_", "metrics_", "trust_db", "mode"]
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("#") { return true }
            if reaching.contains(where: { trimmed.hasPrefix($0) }) { return false }
            return trimmed.hasPrefix("%") || trimmed.contains(":")
        }.joined(separator: "\n")
    }
}

/// Where the Python clients are.
enum PortClients {
    static let hostileFrames: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../PortClients/hostile_frames.py")
            .standardized.path
    }()

    static let stallingDecider: String = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../PortClients").standardized.path
        _ = staged(folder + "/fanfilter_port.py")
        return folder + "/stalling_decider.py"
    }()
}
