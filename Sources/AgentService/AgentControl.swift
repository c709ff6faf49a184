import AgentCounts
import AgentMetrics
import EventFacts
import FanFilter
import Glibc
import Policy
import PortProtocol
import PortServer
import Synchronization

/// Answers the control requests that come through the socket port
/// (FilterSendMessage's message-notify side): status, reload, set mode,
/// flush caches, clients, metrics, measure. Reloads and mode changes run one at a time, and
/// each answers only once its outcome is known.
final class AgentControl: Sendable {
    let agent: Agent
    let server: PortServer
    let policyPath: String
    let startedAt: Int64
    /// Reads, checks and puts in force the policy file; nil, or the errors (FILE:LINE:COL).
    let reload: @Sendable () -> String?
    /// A mode set with `set-mode`, kept over reloads until a restart.
    let modeOverride: ModeOverride
    /// What renders the metrics for `fanfilter metrics`: the metrics file's, or one made at the first request.
    private let metrics: Mutex<MetricsFile?>
    private let makeMetrics: @Sendable () -> MetricsFile

    init(agent: Agent, server: PortServer, policyPath: String, modeOverride: ModeOverride, metrics: MetricsFile?,
         makeMetrics: @escaping @Sendable () -> MetricsFile, reload: @escaping @Sendable () -> String?) {
        self.metrics = Mutex(metrics)
        self.makeMetrics = makeMetrics
        self.agent = agent
        self.server = server
        self.policyPath = policyPath
        self.reload = reload
        self.modeOverride = modeOverride
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        startedAt = Int64(ts.tv_sec)
    }

    func answer(_ command: ControlCommand, _ argument: [UInt8]) -> ControlAnswer {
        switch command {
        case .status: return .ok(argument == Array("json".utf8) ? JSONText.object(status()) : Self.text(status()))
        case .clients:
            let clients = server.clients.filter { $0.role != .control }
            if argument == Array("json".utf8) { return .ok(JSONText.array(clients.map { JSONText.object(Self.fields($0)) })) }
            return .ok(clients.isEmpty ? "no clients connected" : clients.map { Self.text(Self.fields($0)) }.joined(separator: "\n"))
        case .metrics:
            let renderer = metrics.withLock { m in
                if m == nil { m = makeMetrics() }
                return m!
            }
            return ControlAnswer(error: nil, body: renderer.render())
        case .flushCaches:
            agent.flushCaches()
            return .ok("caches flushed")
        case .measure:
            // Read by the agent's own process: its events are allowed at once, whatever the policy says.
            let path = String(decoding: argument, as: UTF8.self)
            guard path.hasPrefix("/"), !argument.contains(0) else { return .failed("measure takes an absolute path") }
            let facts = ObjectFacts(reading: argument, hashMaxSize: 1 << 30)
            guard let size = facts.size, let digest = facts.sha256, let named = facts.path else {
                return .failed("\(path): not a regular file the agent can read (or larger than 1 GiB)")
            }
            return .ok("\(size) \(String(decoding: digest, as: UTF8.self)) \(String(decoding: named, as: UTF8.self))")
        case .reload:
            return reload().map { .failed($0) } ?? .ok("policy loaded: \(agent.policy.source), mode \(agent.policy.agent.mode.rawValue)")
        case .setMode:
            let text = String(decoding: argument, as: UTF8.self)
            guard let mode = Mode(rawValue: text) else { return .failed("unknown mode '\(text)' (expected enforce, permissive or observe)") }
            let before = modeOverride.set(mode)
            if let error = reload() {
                _ = modeOverride.set(before)
                return .failed(error)
            }
            return .ok("mode \(mode.rawValue) until the agent restarts (a reload keeps it)")
        }
    }

    /// `key: value` lines for people; strings without their quotes.
    private static func text(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            "\(key): " + (value.hasPrefix("\"") ? String(value.dropFirst().dropLast()) : value)
        }.joined(separator: "\n")
    }

    private func status() -> [(String, String)] {
        let policy = agent.policy
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let counters = Counter.allCases.map { ($0.name, "\(agent.counters[$0])") }
        return [
            ("uptime_seconds", "\(Int64(now.tv_sec) - startedAt)"),
            ("policy", JSONText.string(policyPath)),
            ("policy_sha256", agent.policyDigest.map(JSONText.string) ?? "null"),
            ("rules", "\(policy.rules.count)"),
            ("mode", JSONText.string(policy.agent.mode.rawValue)),
            ("kernel", JSONText.string("\(agent.features) \(MemfdExecution.summary())")),
            ("events_in_flight", "\(agent.eventsInFlight)"),
            ("counters", JSONText.object(counters)),
            ("clients", JSONText.array(server.clients.filter { $0.role != .control }.map { JSONText.object(Self.fields($0)) })),
        ] + trust()
    }

    /// The trust database's path and size, when a rule reads trust (`files`: null when it cannot be opened).
    private func trust() -> [(String, String)] {
        guard let db = agent.trustDatabase else { return [] }
        return [("trust_db", JSONText.string(db.path)), ("trust_db_files", db.files.map(String.init) ?? "null")]
    }

    static func fields(_ c: ClientSummary) -> [(String, String)] {
        [("name", JSONText.string(c.name)), ("role", JSONText.string("\(c.role)")),
         ("pid", "\(c.pid)"), ("uid", "\(c.uid)"), ("in_flight", "\(c.inFlight)"),
         ("primed", "\(c.primed)"), ("handled", "\(c.handled)")]
    }
}
