import AgentLog
import AgentMetrics
import Dispatch
import EventFacts
import FanFilter
import Fanotify
import Glibc
import Logging
import Policy
import PortServer

/// The agent as a service: it loads the policy, opens the socket port, starts
/// the agent, tells the service manager, and then takes signals on the calling
/// thread until one means stop. Guarantee: every event read is answered
/// before run() returns (the agent's stop), and a policy with errors never
/// starts (exit status 78, EX_CONFIG).
public struct AgentService: Sendable {
    public let origin: PolicyOrigin
    public let logTarget: LogTarget

    public init(origin: PolicyOrigin, logTarget: LogTarget) {
        self.origin = origin
        self.logTarget = logTarget
    }

    /// What `fanfilter run --help` and `fanfilterd --help` say of the agent.
    public static let discussion = """
    Must run as root (fanotify permission events need CAP_SYS_ADMIN). The agent \
    marks every path the policy's `watch` (whole filesystem) and `watch_mount` \
    (one mount) settings name, then decides each open and execution there. \
    Decisions from *_log rules, and denials that permissive or observe mode \
    turned into allows, are logged to standard error, one line each.

    The policy file, and every file it includes, must be owned by root and not \
    writable by group or others.

    Signals: SIGTERM, SIGINT and SIGQUIT stop it cleanly; SIGHUP reloads; SIGUSR1 \
    logs the counters; SIGPIPE and the job-control stops (SIGTSTP, SIGTTIN, \
    SIGTTOU) are ignored, so neither a closed log reader nor Ctrl-Z can stop it \
    while openers wait; every other signal that would end a process (SIGUSR2, \
    SIGALRM, real-time signals, …) is logged and ignored. SIGKILL and SIGSTOP \
    cannot be caught: SIGKILL closes the fanotify group (the kernel allows what \
    waits), and under systemd the watchdog restarts an agent stopped by SIGSTOP.

    SIGHUP reloads the policy: it is read and checked off the event path, then put \
    in force whole (events in flight finish under the old one), with marks added \
    and removed to follow `watch`; a policy with errors is logged with its \
    locations and the running one stays. workers, prime and queue_size take effect \
    on restart only, which the log says.

    On SIGTERM or SIGINT it stops reading events, answers every event in flight \
    (within reply_timeout), closes the fanotify group, prints its counters and \
    exits 0.

    Exit status: 0 after a clean stop; 78 (EX_CONFIG) when the policy is invalid; \
    1 when fanotify cannot be set up (not root, an unwatchable path).
    """

    /// Runs the agent until a stop signal; the process's exit status.
    public func run() -> Int32 {
        var signals = AgentSignals.install()
        limitMallocArenas()
        let policy: Policy
        do { policy = try origin.load() } catch {
            printError("\(error)")
            printError("fanfilter: refusing to start: the policy has errors")
            return 78
        }
        let logs = LogQueue(sink: logTarget.toJournal ? JournalSink() : StderrSink(), rate: policy.agent.logRate)
        LoggingSystem.bootstrap { QueuedLogHandler(label: $0, queue: logs) }
        var logger = Logger(label: "fanfilter")
        logger.logLevel = .info
        defer { logs.stop() }
        for warning in policy.warnings { logger.warning("\(warning)") }
        if let nothing = policy.watchesNothingWarning { logger.warning("\(nothing)") }

        let server: PortServer?
        do { server = try Self.portServer(policy.agent, logger: logger) } catch {
            logger.critical("cannot start: \(error)")
            logs.flush()
            printError("fanfilter: \(error)")
            return 1
        }
        defer { server?.stop() }
        let agent: Agent
        do { agent = try Agent(policy: policy, logger: logger, clients: server) } catch {
            logger.critical("cannot start: \(error)")
            logs.flush()
            printError("fanfilter: \(error)")
            return 1
        }
        let service = ServiceManager(agent: agent)
        let modeOverride = ModeOverride()
        // Written to metrics_file when the policy names one; `fanfilter metrics` renders it
        // (made at its first request otherwise: an agent nobody asks keeps none in memory).
        let makeMetrics: @Sendable (String?) -> MetricsFile = { [logger] path in
            MetricsFile(path: path, interval: policy.agent.metricsInterval, agent: agent,
                        version: fanfilterVersion) { logger.error("\($0)") }
        }
        let metrics = policy.agent.metricsFile.map { makeMetrics(String(decoding: $0, as: UTF8.self)) }
        let reloads = DispatchQueue(label: "fanfilter.reload")
        if let server {
            let control = AgentControl(
                agent: agent, server: server, policyPath: origin.name,
                modeOverride: modeOverride, metrics: metrics, makeMetrics: { makeMetrics(nil) },
                reload: { [origin, logger] in reloads.sync { Self.reload(origin, agent, service, logs, logger, modeOverride) } })
            server.onControl { control.answer($0, $1) }
            server.start()
        }
        agent.start()
        logger.info("started: \(Self.describe(agent)); kernel: \(agent.features) \(MemfdExecution.summary())",
                    metadata: [Field.messageID: "\(MessageID.agentStarted.rawValue)"])
        service.ready()
        service.startWatchdog()
        metrics?.start()
        // A second on, when the threads the start began have run their own start-up code too.
        // (This thread's wait, not a libdispatch timer: its first timer opens an epoll, an
        // eventfd and a timerfd, and with no descriptor left then, libdispatch ends the process.)
        Self.takeSignals(&signals, agent: agent, logger: logger, after: (.seconds(1), { reloads.async { StartupPages.release() } })) {
            // Read and checked off this thread, so a stop signal is taken at once
            // whatever the policy's size; reloads run one at a time, in order.
            reloads.async { [origin, logger] in _ = Self.reload(origin, agent, service, logs, logger, modeOverride) }
        }
        service.stopping()
        logger.info("stopping: answering the events in flight",
                    metadata: [Field.messageID: "\(MessageID.agentStopping.rawValue)"])
        server?.stop()
        agent.stop()
        metrics?.stopWriting()
        logger.info("stopped: \(agent.counters.summary)")
        return 0
    }

    /// Takes signals on this thread until one means stop: SIGHUP runs
    /// `reload`, SIGUSR1 logs the counters, any other is logged and ignored.
    /// `after`'s task runs once, when its time has passed since the call.
    static func takeSignals(_ signals: inout sigset_t, agent: Agent, logger: Logger,
                            after: (delay: Duration, task: () -> Void), reload: () -> Void) {
        var pending: (deadline: ContinuousClock.Instant, task: () -> Void)? = (.now + after.delay, after.task)
        while true {
            var sig: Int32 = 0
            if let (deadline, task) = pending {
                let left = max(.zero, deadline - .now).components
                var timeout = timespec(tv_sec: Int(left.seconds), tv_nsec: Int(left.attoseconds / 1_000_000_000))
                sig = sigtimedwait(&signals, nil, &timeout)
                if sig < 0 {
                    if errno == EAGAIN { task(); pending = nil }
                    continue
                }
            } else {
                guard sigwait(&signals, &sig) == 0 else { continue }
            }
            switch AgentSignals.meaning(of: sig) {
            case .stop:
                logger.info("received \(AgentSignals.name(sig))")
                return
            case .reload: reload()
            case .report: logger.notice("counters: \(agent.counters.summary) in-flight=\(agent.eventsInFlight)")
            case .ignore:
                logger.notice("ignored signal \(sig) (\(AgentSignals.name(sig))): SIGTERM or SIGINT stops fanfilter, SIGHUP reloads, SIGUSR1 logs the counters")
            }
        }
    }

    /// The socket port, where the policy names one (`port_socket`), open to root and `port_group`.
    static func portServer(_ settings: AgentSettings, logger: Logger) throws -> PortServer? {
        guard let path = settings.portSocket else { return nil }
        var group: UInt32?
        if let name = settings.portGroup {
            if let number = UInt32(name) { group = number } else {
                guard let entry = getgrnam(name) else {
                    throw AgentError.refused("port_group \(name): no such group (getent group \(name) finds none)")
                }
                group = entry.pointee.gr_gid
            }
        }
        do {
            return try PortServer(access: PortAccess(path: String(decoding: path, as: UTF8.self), group: group,
                                                     maxDeciders: settings.maxConnections),
                                  logger: logger)
        } catch {
            throw AgentError.refused("cannot open the port's socket: \(error) (port_socket = none runs without one)")
        }
    }

    static func describe(_ agent: Agent) -> String {
        let policy = agent.policy
        let watched = agent.watched.map { "\(printable($0.path)) (\(agent.describe($0)))" }.joined(separator: ", ")
        return "policy \(policy.source), \(plural(policy.rules.count, "rule")), mode \(policy.agent.mode.rawValue); "
            + "watching \(watched.isEmpty ? "nothing" : watched)"
    }

    /// Reads, checks and puts in force the policy file; nil, or why the running policy stays.
    static func reload(_ origin: PolicyOrigin, _ agent: Agent, _ service: ServiceManager, _ logs: LogQueue,
                       _ logger: Logger, _ modeOverride: ModeOverride) -> String? {
        service.reloading()
        defer {
            service.ready()
            StartupPages.release()
        }
        logger.info("reloading: reading \(origin.path.map { printable(Array($0.utf8)) } ?? PolicyOrigin.builtInName)")
        let rejected: Logger.Metadata = [Field.messageID: "\(MessageID.policyRejected.rawValue)"]
        let policy: Policy
        do { policy = modeOverride.apply(to: try origin.load()) } catch {
            logger.error("policy rejected, the running policy stays: \(error.diagnostics.count == 1 ? "" : "\n")\(error)",
                         metadata: rejected)
            return "policy rejected, the running policy stays:\n\(error)"
        }
        do {
            let notes = try agent.reload(policy)
            logs.rate.store(policy.agent.logRate, ordering: .relaxed)
            for warning in policy.warnings { logger.warning("\(warning)") }
            if let nothing = policy.watchesNothingWarning { logger.warning("\(nothing)") }
            for note in notes { logger.warning("\(note)") }
            logger.info("policy loaded: \(describe(agent))", metadata: [Field.messageID: "\(MessageID.policyLoaded.rawValue)"])
            return nil
        } catch {
            logger.error("policy rejected, the running policy stays: \(error)", metadata: rejected)
            return "policy rejected, the running policy stays: \(error)"
        }
    }
}

/// One malloc arena for the whole agent: the threads' small allocations come
/// from their own caches (tcache) anyway, and every further arena keeps its
/// free memory resident. mallopt(M_ARENA_MAX, 1), looked up at run time
/// because malloc.h is not in Swift's Glibc module; MALLOC_ARENA_MAX in the
/// environment still wins.
private func limitMallocArenas() {
    guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let M_ARENA_MAX: Int32 = -8
    _ = unsafeBitCast(symbol, to: Mallopt.self)(M_ARENA_MAX, 1)
}
