import Synchronization
import Dispatch
import FilterPort
import Glibc
import Logging
import Policy

/// A watched path and how it was marked.
public struct WatchedPath: Sendable, Equatable {
    public var path: [UInt8]
    /// "filesystem" or "mount".
    public var scope: String
}

/// fanfilter's agent: a fanotify group with the policy's marks, an event
/// reader, a port, and the decision workers behind it.
///
/// Guarantees: every permission event read gets exactly one response, within
/// `reply_timeout` plus scheduling delay, whatever the workers do; `stop()`
/// answers everything in flight before it closes the fanotify group.
public final class Agent: Sendable {
    public let counters = Counters()
    public let features: FanotifyFeatures
    public let watched: [WatchedPath]
    public let policy: Policy

    private let group: FanotifyGroup
    private let port: FilterPort<EventMessage, DecisionReply>
    private let responder: Responder
    private let reader: EventReader
    private let workers: DecisionWorkers
    private let logger: Logger
    private let readerDone = DispatchGroup()
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    /// Creates the fanotify group and puts every mark the policy asks for in
    /// place, and starts the workers; events flow once `start()` runs the reader.
    /// - Parameter decide: replaces the policy's decision (tests use it to stall).
    public init(policy: Policy, logger: Logger,
                decide: (@Sendable (AccessRequest) -> Decision)? = nil) throws(AgentError) {
        self.policy = policy
        self.logger = logger
        let settings = policy.settings
        raiseFileLimit(atLeast: settings.queueSize + 256)
        group = try FanotifyGroup()
        var openExec = true
        var watched: [WatchedPath] = []
        for (paths, scope) in [(settings.watch, FanotifyGroup.MarkScope.filesystem), (settings.watchMounts, .mount)] {
            for path in paths {
                let marked = try group.markPermissions(path, scope: scope, openExec: &openExec)
                watched.append(WatchedPath(path: path, scope: marked.rawValue))
            }
        }
        var features = group.features
        features.openExecPerm = openExec
        self.features = features
        self.watched = watched

        port = FilterPort(name: "fanfilter", maxConnections: 1, backlogCapacity: settings.queueSize)
        responder = Responder(group: group, counters: counters)
        let settlement = Settlement(responder: responder, counters: counters, settings: settings,
                                    log: DecisionLog(logger: logger))
        reader = try EventReader(group: group, port: port, responder: responder, settlement: settlement,
                                 counters: counters, replyTimeout: settings.replyTimeout, logger: logger)
        do {
            workers = try DecisionWorkers(port: port, count: settings.workers, prime: settings.prime,
                                          counters: counters, decide: decide ?? { policy.decide($0) })
        } catch {
            throw AgentError("cannot connect the workers to the port: \(error)")
        }
    }

    /// Starts reading events. Call once.
    public func start() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        DispatchQueue(label: "fanfilter.reader").async(group: readerDone) { [reader] in reader.run() }
    }

    /// Stops reading, waits until every event in flight has been answered (at
    /// most `reply_timeout` later), stops the workers and closes the fanotify
    /// group. Idempotent; returns when all of that is done.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        reader.stop()
        readerDone.wait()
        let deadline = DispatchTime.now() + .nanoseconds(Int(policy.settings.replyTimeout.nanoseconds) + 1_000_000_000)
        while port.unansweredCount > 0, DispatchTime.now() < deadline { usleep(1000) }
        workers.stop()
        group.close()
    }

    /// Event fds read and not answered (debug builds check this is 0 after `stop()`).
    public var unansweredEvents: Int { responder.outstanding }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// Each event in flight holds an fd: make room for a full queue.
private func raiseFileLimit(atLeast wanted: Int) {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_, &limit) == 0, limit.rlim_cur < rlim_t(wanted) else { return }
    limit.rlim_cur = min(limit.rlim_max, max(rlim_t(wanted), limit.rlim_cur))
    _ = setrlimit(RLIMIT_NOFILE_, &limit)
}

private let RLIMIT_NOFILE_ = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
