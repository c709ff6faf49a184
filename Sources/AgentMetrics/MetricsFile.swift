import AgentCounts
import Clocks
import CoreMetrics
import Deciding
import Dispatch
import FanFilter
import Glibc
import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory
import Synchronization
import SystemCall
import SystemPackage

/// The agent's numbers in Prometheus' text format, in one file that
/// node_exporter's textfile collector reads (`metrics_file`), written anew
/// every `metrics_interval` on a thread of its own: the event path keeps its
/// atomic counters and never takes a lock or makes a system call for this.
/// Each write goes to a temporary file beside the target, then renamed over
/// it, so a reader sees the old file or the new one, never half of one.
///
/// What it holds: every counter of the agent as `fanfilter_<name>_total`,
/// the events each rule decided (`fanfilter_rule_hits_total`), the events in
/// flight, the decisions in the agent's cache, the port's clients, the
/// policy's rules and marked paths, the start time, four latency histograms
/// (decision, wait for a worker, policy evaluation, a client's answer), and two info
/// metrics (value 1) whose labels say the version, mode and policy file, and
/// the kernel features in use. The values go through
/// swift-metrics, with swift-prometheus's registry behind it.
public final class MetricsFile: Sendable {
    /// nil: no file is written, the text is only rendered on request (`fanfilter metrics`).
    private let path: String?
    private let interval: Duration
    private let agent: Agent
    private let version: String
    private let registry = PrometheusCollectorRegistry()
    private let counters: [(AgentCounts.Counter, CoreMetrics.Counter)]
    private let last = Mutex<[UInt64]>([])
    private let inFlight: CoreMetrics.Gauge
    private let ruleCount: CoreMetrics.Gauge
    private let watched: CoreMetrics.Gauge
    private let cached: CoreMetrics.Gauge
    private let clients: CoreMetrics.Gauge
    private let started: CoreMetrics.Gauge
    private let stop = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    private let failures = Atomic<Int>(0)
    /// The info series written last: the agent's, and the kernel features'.
    private let infos = Mutex<(agent: InfoSeries?, kernel: InfoSeries?)>((nil, nil))
    private typealias InfoSeries = (labels: [String], gauge: CoreMetrics.Gauge)
    private let factory: PrometheusMetricsFactory
    /// Per-rule counters by rule label, and the hits already added to each.
    private let rules = Mutex<(hits: RuleHits?, added: [String: (CoreMetrics.Counter, UInt64)])>((nil, [:]))
    private let onError: @Sendable (String) -> Void
    private let histograms: [HistogramSeries]

    /// Writes `path` for `agent` every `interval` once `start()` runs (with no
    /// path, `render()` alone serves); `onError` hears about a write that
    /// failed (the 1st, 2nd, 4th, 8th … time).
    public init(path: String?, interval: Duration, agent: Agent, version: String,
                onError: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.interval = interval
        self.agent = agent
        self.version = version
        self.onError = onError
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        counters = AgentCounts.Counter.allCases.map {
            ($0, CoreMetrics.Counter(label: "fanfilter_" + String($0.name.map { $0 == "-" ? "_" : $0 }) + "_total",
                                     factory: factory))
        }
        last.withLock { $0 = Array(repeating: 0, count: AgentCounts.Counter.allCases.count) }
        inFlight = CoreMetrics.Gauge(label: "fanfilter_events_in_flight", factory: factory)
        ruleCount = CoreMetrics.Gauge(label: "fanfilter_policy_rules", factory: factory)
        watched = CoreMetrics.Gauge(label: "fanfilter_watched_paths", factory: factory)
        cached = CoreMetrics.Gauge(label: "fanfilter_cache_entries", factory: factory)
        clients = CoreMetrics.Gauge(label: "fanfilter_port_clients", factory: factory)
        started = CoreMetrics.Gauge(label: "fanfilter_start_time_seconds", factory: factory)
        histograms = [
            HistogramSeries("decision_latency", help: "From an event read to the kernel's answer, whatever answered.",
                            agent.latencies.decision, registry: registry),
            HistogramSeries("worker_wait", help: "From an event read to a decision thread taking its message.",
                            agent.latencies.workerWait, registry: registry),
            HistogramSeries("policy_evaluation", help: "The policy's rules alone.", agent.latencies.evaluation, registry: registry),
            HistogramSeries("client_latency", help: "From an ask event sent to the socket's deciders to their answer.",
                            agent.latencies.client, registry: registry),
        ]
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        started.record(Int64(now.tv_sec))
    }

    /// Starts the thread that writes the file, at once and then every interval (none without a path).
    public func start() {
        guard path != nil else { return }
        DispatchQueue(label: "fanfilter.metrics").async(group: done) { [self] in
            repeat { write() } while stop.wait(timeout: .now() + .nanoseconds(Int(interval.components.seconds * 1_000_000_000
                                                                                   + interval.components.attoseconds / 1_000_000_000))) == .timedOut
            write()  // the last numbers, as the agent stops
        }
    }

    /// Writes the file one last time and stops the thread.
    public func stopWriting() {
        guard path != nil else { return }
        stop.signal()
        done.wait()
    }

    /// Takes the agent's numbers now and writes them (tests call it directly).
    public func write() {
        guard let path else { return }
        do { try WholeFile.replace(path, with: render(), temporarySuffix: ".tmp") } catch {
            let n = failures.add(1, ordering: .relaxed).newValue
            if n & (n - 1) == 0 { onError("cannot write the metrics file \(path): \(error) [\(n) so far]") }
        }
    }

    /// The agent's numbers now, in Prometheus' text format (what the file holds; `fanfilter metrics` prints it).
    public func render() -> [UInt8] {
        last.withLock { last in
            for (i, (counter, metric)) in counters.enumerated() {
                let value = agent.counters[counter]
                if value > last[i] { metric.increment(by: Int64(value - last[i])) }
                last[i] = value
            }
        }
        inFlight.record(Int64(agent.eventsInFlight))
        for h in histograms { h.update() }
        let policy = agent.policy
        ruleCount.record(Int64(policy.rules.count))
        writeRuleHits()
        watched.record(Int64(agent.watched.filter { $0.device != nil }.count))
        cached.record(Int64(agent.cachedDecisions))
        clients.record(Int64(agent.portClients))
        let features = agent.features
        infos.withLock { last in
            info(&last.agent, "fanfilter_info", [("version", version), ("mode", policy.agent.mode.rawValue), ("policy", policy.source),
                                                 ("policy_sha256", agent.policyDigest ?? "")])
            info(&last.kernel, "fanfilter_kernel_features_info",
                 [("pidfd", yes(features.pidfd)), ("audit", yes(features.audit)),
                  ("open_exec_perm", yes(features.openExecPerm)), ("fd_error", yes(features.fdError)),
                  ("ignore_marks", features.ignoreMarks.rawValue)])
        }
        return registry.emitToBuffer()
    }

    /// `fanfilter_rule_hits_total{rule, location, decision}` for every rule of the
    /// policy in force; after a reload, the new policy's rules count from where
    /// the same label left off (a counter never goes down).
    private func writeRuleHits() {
        let (policy, hits) = agent.ruleHits
        rules.withLock { state in
            if state.hits !== hits {
                state.hits = hits
                for key in state.added.keys { state.added[key]?.1 = 0 }
            }
            for rule in policy.rules {
                let location = "\(rule.location.file):\(rule.location.line)"
                let key = "\(rule.number) \(location) \(rule.decision.rawValue)"
                let (counter, added) = state.added[key] ?? (CoreMetrics.Counter(
                    label: "fanfilter_rule_hits_total",
                    dimensions: [("rule", "\(rule.number)"), ("location", location), ("decision", rule.decision.rawValue)],
                    factory: factory), 0)
                let now = hits[rule.number]
                if now > added { counter.increment(by: Int64(now - added)) }
                state.added[key] = (counter, max(now, added))
            }
        }
    }

    /// An info metric (value 1) with `labels`; when they change (a reload to another
    /// mode), the series with the old ones goes, so only one says 1.
    private func info(_ last: inout InfoSeries?, _ name: String, _ labels: [(String, String)]) {
        let key = labels.map { $0.0 + "=" + $0.1 }
        guard last?.labels != key else { return }
        last?.gauge.destroy()
        let gauge = CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
        gauge.record(1)
        last = (key, gauge)
    }

    private func yes(_ b: Bool) -> String { b ? "yes" : "no" }
}
