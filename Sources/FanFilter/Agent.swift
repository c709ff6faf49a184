import AgentCounts
import Clocks
import Deciding
import Dispatch
import EventFacts
import Fanotify
import FilterPort
import Glibc
import Logging
import Policy
import PortServer
import Synchronization
import SystemCall
import SystemPackage

/// fanfilter's agent: a fanotify group with the policy's marks, an event
/// reader, one port, and the deciders behind it: the in-process decision
/// workers in the port's first lane, the socket port's deciders (for `ask`
/// rules) in its second.
///
/// Guarantees: every event read gets exactly one answer, within
/// `reply_timeout` plus scheduling delay, whatever the workers do; `reload`
/// swaps the policy whole (events in flight finish under the policy they were
/// read with) or keeps the running one; `stop()` answers everything in flight
/// before it closes the fanotify group.
public final class Agent: Sendable {
    public let counters = Counters()
    /// Where events' time goes (decision, wait for a worker, evaluation, a client's answer), for the metrics.
    public let latencies = Latencies()

    /// One fanotify group, its marks and its reader thread.
    private struct Watch: Sendable {
        var group: any KernelGroup
        var reader: EventReader
        var done: DispatchGroup
        var watched: [WatchedPath]
        var openExec: Bool
        /// Drops cached allows when files move or gain links (cache = kernel only).
        var links: LinkWatcher?
    }

    private struct State: Sendable {
        var watch: Watch
        var started = false
        var stopped = false
        /// Re-marks watched paths as filesystems come and go (from `start()` on).
        var mountWatcher: MountWatcher?
        /// Puts a new trust database in force when one is renamed into place.
        var trustWatcher: TrustWatcher?
    }

    private let state: Mutex<State>
    private let policies: PolicyHolder
    private let port: FilterPort<EventMessage, DecisionReply>
    /// The socket port, when the agent has one.
    private let clients: PortServer?
    private let responder: Responder
    private let workers: DecisionWorkers
    private let context: EventReader.Context
    private let cache: KernelCache
    private let mounts = MountTable()
    private let names = ProcessNames()
    private let logger: Logger
    /// Makes the groups: the kernel's fanotify groups, or a scripted kernel in tests.
    private let kernel: KernelGroupFactory
    /// Reloads and stops, one at a time.
    private let control = Mutex<Void>(())
    /// The readers' and workers' boost above the default priority (`priority_boost`, from the start).
    private let priorityBoost: Int

    /// Creates the fanotify group, puts every mark the policy asks for in
    /// place, and starts the workers; events flow once `start()` runs the reader.
    /// - Parameter decide: an in-process Swift decider that replaces the policy's
    ///   rules (its answers still go through the port, its timeouts and settings,
    ///   and are never cached); nil: the policy decides.
    /// - Parameter kernel: makes the event groups (tests pass a scripted kernel).
    /// - Parameter portClock: when reply timeouts fall due (tests pass one they advance).
    /// - Parameter clients: the socket port whose deciders answer `ask` rules
    ///   and whose observers see each decision (nil: `ask` gets `on_no_client`).
    public init(policy: Policy, logger: Logger,
                decide: (@Sendable (AccessRequest) -> Decision)? = nil,
                clients: PortServer? = nil,
                kernel: @escaping KernelGroupFactory = fanotifyGroups,
                portClock: any MonotonicClock = SystemClock()) throws(AgentError) {
        self.logger = logger
        self.kernel = kernel
        self.clients = clients
        let agent = policy.agent
        priorityBoost = agent.priorityBoost
        raiseFileLimit(atLeast: 2 * agent.queueSize + 1024, logger)
        ContentLease.ignoreBreakNotices()
        let active = ActivePolicy(policy, counters: counters, sourceBytes: ActivePolicy.bytes(ofFile: policy.source))
        Self.loadHasher(for: active, logger)
        if let warning = MemfdExecution.warning(for: policy) { logger.warning("\(warning)") }
        policies = PolicyHolder(active)
        port = Self.port(queueSize: agent.queueSize, clients: clients, clock: portClock)
        clients?.attach(DeciderPort(port, lane: Self.decidersLane))
        responder = Responder(counters: counters)
        cache = KernelCache(counters: counters)
        let log = DecisionLog(logger: logger, mounts: mounts, names: names)
        do {
            workers = try DecisionWorkers(port: port, count: agent.workers, prime: agent.prime, priorityBoost: agent.priorityBoost,
                                          counters: counters, latencies: latencies, log: log, mounts: mounts, names: names, decide: decide,
                                          clients: clients.map { ClientDecisions(server: $0) })
        } catch {
            throw .refused("cannot connect the workers to the port: \(error)")
        }
        port.busy.allowSpinning(agent.spin == .auto)
        context = EventReader.Context(
            port: port, responder: responder,
            settlement: Settlement(port: port, responder: responder, counters: counters, log: log, cache: cache,
                                   observers: clients?.observers, latency: latencies.decision, clientLatency: latencies.client,
                                   userShare: UserShare()),
            counters: counters, policies: policies, cache: cache, workers: workers, deciderFrames: clients, logger: logger)
        do {
            var watch = try Self.watch(agent, context: context, mounts: mounts, kernel: kernel)
            watch.links = Self.linkWatcher(agent, watch.watched, watch.group, cache, logger)
            for w in watch.watched where w.device == nil { logger.warning("\(Self.missing(w.path))") }
            state = Mutex(State(watch: watch))
        } catch {
            _ = workers.stop(within: .seconds(1))
            throw error
        }
    }

    /// The port's lane of the in-process decision workers, and of the socket port's deciders.
    static let workersLane = 0
    static let decidersLane = 1

    /// The agent's one port: the workers take the events, in their lane; an
    /// event an `ask` rule leaves to the deciders goes in theirs, to one that
    /// serves its access and rule.
    private static func port(queueSize: Int, clients: PortServer?, clock: any MonotonicClock) -> FilterPort<EventMessage, DecisionReply> {
        let services = clients?.services
        let serves: @Sendable (ConnectionInfo, EventMessage) -> Bool = { info, message in
            message.ask == nil || services?.serves(info, message) == true
        }
        let lane: @Sendable (EventMessage) -> Int = { $0.ask == nil ? workersLane : decidersLane }
        return FilterPort(name: "fanfilter", maxConnections: 1 + (clients?.maxDeciders ?? 0), backlogCapacity: queueSize,
                          serves: serves, lanes: 2, lane: lane, clock: clock)
    }

    /// Loads libcrypto now, off the event path, when a rule needs a digest,
    /// and says so when it cannot be loaded, or when the trust database a
    /// rule needs cannot be opened.
    private static func loadHasher(for active: ActivePolicy, _ logger: Logger) {
        if let problem = active.trustProblem { logger.error("\(problem)") }
        guard active.hashes, LibCrypto.shared == nil else { return }
        logger.error("sha256hash tests match no file: OpenSSL's libcrypto (libcrypto.so.3 or .so.1.1) cannot be loaded; install it (apt-get install libssl3)")
    }

    /// A new group of the class `agent.mode` needs, with its marks and a reader (not started).
    private static func watch(_ agent: AgentSettings, context: EventReader.Context,
                              mounts: MountTable, kernel: KernelGroupFactory) throws(AgentError) -> Watch {
        let group: any KernelGroup
        do { group = try kernel(agent.mode != .observe) } catch { throw .failed(error) }
        var openExec = true
        var watched: [WatchedPath] = []
        do {
            for (path, scope, byType) in wanted(agent, mounts) {
                try refuseProcessFilesystems(path, mounts)
                // A path that does not exist is watched once it does (`missing`).
                guard deviceNumber(of: path) != nil else {
                    watched.append(WatchedPath(path: path, scope: scope.rawValue, byType: byType))
                    continue
                }
                let marked = try mark(group, path, scope: scope, openExec: &openExec)
                watched.append(WatchedPath(path: path, scope: marked.rawValue, byType: byType))
            }
            return Watch(group: group, reader: try EventReader(group: group, context: context),
                         done: DispatchGroup(), watched: watched, openExec: openExec, links: nil)
        } catch {
            group.close()
            throw error
        }
    }

    /// Marks the filesystem (or mount) of `path` in `group` (see `KernelGroup.add`).
    private static func mark(_ group: any KernelGroup, _ path: [UInt8], scope: MarkScope,
                             openExec: inout Bool) throws(AgentError) -> MarkScope {
        do { return try group.add(path, scope: scope, openExec: &openExec) } catch { throw .failed(error) }
    }

    /// What the log says of a watched path that does not exist.
    static func missing(_ path: [UInt8]) -> String {
        "not watching \(printable(path)): no such file or directory; it is watched once it exists, from the next mount or unmount anywhere or the next reload"
    }

    private static func linkWatcher(_ agent: AgentSettings, _ watched: [WatchedPath], _ group: any KernelGroup,
                                    _ cache: KernelCache, _ logger: Logger) -> LinkWatcher? {
        // Renames are followed on the real kernel's filesystems only.
        guard agent.cache == .kernel, group.permission, let group = group as? FanotifyGroup else { return nil }
        return LinkWatcher(paths: watched.filter { $0.device != nil }.map(\.path), group: group, cache: cache, logger: logger)
    }

    /// The paths `s` watches: its `watch` and `watch_mount` paths, and where
    /// each filesystem of a `watch_fs` type is mounted now.
    private static func wanted(_ s: AgentSettings, _ mounts: MountTable) -> [(path: [UInt8], scope: MarkScope, byType: Bool)] {
        s.watch.map { ($0, .filesystem, false) } + s.watchMounts.map { ($0, .mount, false) }
            + mounts.mountPoints(ofTypes: s.watchTypes).map { ($0.point, .filesystem, true) }
    }

    /// Runs the reader of `watch` on a thread of its own, `priority_boost` above the default.
    private func run(_ watch: Watch) {
        DispatchQueue(label: "fanfilter.reader").async(group: watch.done) { [reader = watch.reader, priorityBoost, logger] in
            ThreadPriority.boosted(by: priorityBoost, failed: { error in
                logger.warning("priority_boost = \(priorityBoost): the event reader runs at the default priority: \(error)")
            }) { reader.run() }
        }
    }

    public var policy: Policy { policies.load().policy }
    /// The SHA-256 of the policy file in force, as it was read when put in force (nil: none or
    /// unreadable). The first request loads libcrypto.
    public var policyDigest: String? { policies.load().digest }

    /// The trust database the policy in force reads: its path and how many
    /// files it lists (nil: no rule reads trust; a count of nil: it cannot be opened).
    public var trustDatabase: (path: String, files: Int?)? {
        let active = policies.load()
        guard active.usesTrust else { return nil }
        return (String(decoding: active.policy.settings.trustDatabase, as: UTF8.self), active.trust.database?.count)
    }
    /// Decisions the agent's own cache holds now (0 with `cache = off`).
    public var cachedDecisions: Int { policies.load().decisions?.count ?? 0 }

    /// Deciders and observers connected to the socket port now (0 without one).
    public var portClients: Int { clients?.clients.filter { $0.role != .control }.count ?? 0 }

    /// The policy in force and how many events each of its rules decided (a reload starts new counts).
    public var ruleHits: (policy: Policy, hits: RuleHits) {
        let active = policies.load()
        return (active.policy, active.ruleHits)
    }
    public var watched: [WatchedPath] { state.withLock { $0.watch.watched } }
    public var features: FanotifyFeatures {
        state.withLock { s in
            var f = s.watch.group.features
            f.openExecPerm = s.watch.openExec
            return f
        }
    }

    /// Turns of the current reader's loop; it advances at least once a second while the reader lives.
    public var heartbeat: UInt64 { state.withLock { $0.watch.reader }.heartbeat.load(ordering: .relaxed) }

    /// Starts reading events. Call once.
    public func start() {
        let watch = state.withLock { s -> Watch? in
            guard !s.started else { return nil }
            s.started = true
            return s.watch
        }
        guard let watch else { return }
        // The watchers' descriptors first: the reader counts what else is open when it starts,
        // and takes no more events than the rest of RLIMIT_NOFILE holds.
        var watcher: MountWatcher?
        do { watcher = try MountWatcher { [weak self] in self?.followMounts() } } catch {
            logger.warning("cannot follow mount changes (\(error)): a watched filesystem mounted again is watched after the next reload")
        }
        state.withLock { $0.mountWatcher = watcher }
        watchTrustDatabase()
        run(watch)
    }

    /// Starts following the trust database once a policy in force reads it
    /// (a policy that does not costs no thread and no descriptor).
    private func watchTrustDatabase() {
        guard policies.load().usesTrust, state.withLock({ $0.trustWatcher == nil && !$0.stopped }) else { return }
        let watcher: TrustWatcher
        do { watcher = try TrustWatcher(onTick: { [weak self] in self?.followTrustDatabase() }) } catch {
            return logger.warning("cannot follow the trust database (\(error)): a new one is in force at the next reload")
        }
        let extra = state.withLock { s -> TrustWatcher? in
            guard s.trustWatcher == nil, !s.stopped else { return watcher }
            s.trustWatcher = watcher
            return nil
        }
        extra?.stop()
    }

    /// The trust database a rule reads was replaced (or appeared): the policy
    /// in force is put in force again with it, as a reload would, so the
    /// decisions cached under the old database go with it.
    private func followTrustDatabase() {
        let active = policies.load()
        guard active.usesTrust else { return }
        let path = active.policy.settings.trustDatabase
        let now = (try? withCPath(path) { FilePath(platformString: $0) }.stat()).map { (UInt64($0.deviceID.rawValue), UInt64($0.inode.rawValue)) }
        let before = active.trust.database.map { ($0.identity.device, $0.identity.inode) }
        guard now.map({ n in before.map { $0 != n } ?? true }) ?? false else { return }
        do {
            _ = try reload(active.policy)
            let count = policies.load().trust.database?.count
            logger.notice("a new trust database is in force: \(printable(path))\(count.map { " (\($0) files)" } ?? "")")
        } catch {
            logger.error("a new trust database at \(printable(path)) could not be put in force: \(error)")
        }
    }

    /// The mount table changed: a watched path whose filesystem went away is
    /// reported and left unmarked (the filesystem that holds the path now is
    /// never marked in its place); a path where a new filesystem appeared is
    /// marked again.
    private func followMounts() {
        mounts.invalidate()
        control.withLock { _ in
            let (watch, stopped) = state.withLock { ($0.watch, $0.stopped) }
            guard !stopped else { return }
            var watched = watch.watched
            var openExec = watch.openExec
            var changed = false
            // Reported once the new state is in place, so whoever reads the log sees it applied.
            var reports: [(Logger.Level, Logger.Message)] = []
            // A filesystem watched for its type that is gone took its mark with it.
            let typed = mounts.mountPoints(ofTypes: policies.load().policy.agent.watchTypes)
            let gone = watched.filter { w in w.byType && !typed.contains { $0.device == w.device && $0.point == w.path } }
            watched.removeAll { w in gone.contains(w) }
            for w in gone { reports.append((.notice, "the filesystem watched at \(printable(w.path)) for its type is unmounted")) }
            changed = changed || !gone.isEmpty
            for (point, device) in typed where !watched.contains(where: { $0.device == device }) {
                do {
                    try refuseProcessFilesystems(point, mounts)
                    _ = try watch.group.add(point, scope: .filesystem, openExec: &openExec)
                    let w = WatchedPath(path: point, scope: MarkScope.filesystem.rawValue, byType: true)
                    watched.append(w)
                    changed = true
                    reports.append((.notice, "a filesystem of a watched type is mounted at \(printable(point)): watching it (\(describe(w)))"))
                } catch {
                    reports.append((.error, "a filesystem of a watched type is mounted at \(printable(point)) and cannot be watched: \(error)"))
                }
            }
            for i in watched.indices where !watched[i].byType {
                let w = watched[i]
                let device = deviceNumber(of: w.path)
                guard device != w.device else {
                    // A filesystem mounted in place of one just unmounted can get its freed device
                    // number back (tmpfs does), so the same number may be a new filesystem. Marking
                    // again changes nothing on the same one and covers a new one.
                    guard device != nil, w.mountPoint else { continue }
                    do { _ = try watch.group.add(w.path, scope: .init(rawValue: w.scope)!, openExec: &openExec) } catch {
                        reports.append((.error, "cannot mark the filesystem at \(printable(w.path)) again: \(error)"))
                    }
                    continue
                }
                let mountPoint = isMountPoint(w.path)
                if device == nil || (w.mountPoint && !mountPoint) {
                    if w.device != nil {
                        reports.append((.warning, "the filesystem watched at \(printable(w.path)) is gone (unmounted or removed): nothing is watched there until a filesystem is mounted at \(printable(w.path)) again"))
                        watched[i].device = nil
                        changed = true
                    }
                    continue
                }
                do {
                    _ = try watch.group.add(w.path, scope: .init(rawValue: w.scope)!, openExec: &openExec)
                    watched[i].device = device
                    watched[i].mountPoint = mountPoint
                    changed = true
                    reports.append((.notice, "a new filesystem is mounted at \(printable(w.path)): watching it (\(describe(watched[i])))"))
                } catch {
                    reports.append((.error, "a new filesystem is mounted at \(printable(w.path)) and cannot be watched: \(error)"))
                }
            }
            var links = watch.links
            if changed {
                // It holds a folder open on each watched filesystem: one that went away must
                // be let go, and renames on a new one must drop cached allows too.
                links?.stop()
                links = Self.linkWatcher(policies.load().policy.agent, watched, watch.group, cache, logger)
            }
            state.withLock {
                $0.watch.watched = watched
                $0.watch.openExec = openExec
                $0.watch.links = links
            }
            for (level, message) in reports { logger.log(level: level, message) }
        }
    }

    /// `filesystem ext4 /dev/vda1 254:1`: what is marked for a watched path.
    public func describe(_ w: WatchedPath) -> String {
        guard let device = w.device else {
            return deviceNumber(of: w.path) == nil ? "nothing: no such file or directory" : "nothing: no filesystem mounted there"
        }
        let mount = mounts.lookUp(device: device)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & 0xffff_f000)
        let minor = (device & 0xff) | ((device >> 12) & 0xffff_ff00)
        return "\(w.scope) " + (mount.map { "\(printable($0.fstype)) \(printable($0.source)) " } ?? "") + "\(major):\(minor)"
    }

    /// Puts `new` in force, or keeps the running policy and throws. Events
    /// already read finish under the policy they were read with. Marks follow
    /// the new `watch` and `watch_mount` settings; a change to or from observe
    /// mode moves to a new group of the other class. Returns notes for the log:
    /// settings that only a restart applies.
    public func reload(_ new: Policy) throws(AgentError) -> [String] {
        try control.withLock { _ throws(AgentError) -> [String] in
            let (old, started, stopped) = state.withLock { ($0.watch, $0.started, $0.stopped) }
            guard !stopped else { throw .refused("the agent is stopping: the policy was not loaded") }
            let running = policies.load().policy.agent
            let notes = AgentSettings.restartOnly.filter { $0.differs(running, new.agent) }.map {
                "\($0.name) changed: it takes effect on restart"
            }
            let active = ActivePolicy(new, counters: counters, sourceBytes: ActivePolicy.bytes(ofFile: new.source))
            Self.loadHasher(for: active, logger)
            func storeActive() { policies.store(active) }
            if (new.agent.mode == .observe) == old.group.permission {
                // Permission events and notifications need groups of different classes.
                var fresh = try Self.watch(new.agent, context: context, mounts: mounts, kernel: kernel)
                fresh.links = Self.linkWatcher(new.agent, fresh.watched, fresh.group, cache, logger)
                cache.reset()
                storeActive()
                state.withLock { $0.watch = fresh }
                if started { run(fresh) }
                retire(old, within: running.replyTimeout)
            } else {
                let watched = try remark(old, to: new.agent)
                old.links?.stop()
                let links = Self.linkWatcher(new.agent, watched.watched, old.group, cache, logger)
                storeActive()
                cache.flush(old.group)
                state.withLock {
                    $0.watch.watched = watched.watched
                    $0.watch.openExec = watched.openExec
                    $0.watch.links = links
                }
            }
            port.busy.allowSpinning(new.agent.spin == .auto)
            counters.increment(.reloads)
            if started { watchTrustDatabase() }
            return notes
        }
    }

    /// Adds the marks `agent` wants, then removes those it no longer wants
    /// (unless a wanted path shares their filesystem). Marks added before a
    /// failure are taken back, so a failed reload leaves the running marks.
    private func remark(_ watch: Watch, to agent: AgentSettings) throws(AgentError) -> (watched: [WatchedPath], openExec: Bool) {
        var openExec = watch.openExec
        var watched: [WatchedPath] = []
        var added: [WatchedPath] = []
        for (path, scope, byType) in Self.wanted(agent, mounts) {
            var w = WatchedPath(path: path, scope: scope.rawValue, byType: byType)
            if w.device == nil, !w.mountPoint {
                logger.warning("\(Self.missing(path))")
                watched.append(w)
                continue
            }
            if let before = watch.watched.first(where: { $0.isSetting(w) }), before.mountPoint, !w.mountPoint {
                // Its own filesystem is gone: never mark the one that holds the path in its place.
                logger.warning("not watching \(printable(path)): the filesystem mounted there before is gone, and the one that holds the path now is not watched in its place; it is watched again when a filesystem is mounted at \(printable(path))")
                w.device = nil
                w.mountPoint = true
                watched.append(w)
                continue
            }
            do {
                try refuseProcessFilesystems(path, mounts)
                let marked = try Self.mark(watch.group, path, scope: scope, openExec: &openExec)
                w.scope = marked.rawValue
                watched.append(w)
                if !watch.watched.contains(where: { $0.isSetting(w) && $0.device == w.device }) { added.append(w) }
            } catch {
                for w in added { try? watch.group.remove(w.path, scope: .init(rawValue: w.scope)!, openExec: openExec) }
                throw error
            }
        }
        let keptDevices = Set(watched.compactMap(\.device))
        for w in watch.watched where !watched.contains(where: { $0.isSetting(w) }) {
            if let dev = deviceNumber(of: w.path), keptDevices.contains(dev) { continue }
            do { try watch.group.remove(w.path, scope: .init(rawValue: w.scope)!, openExec: openExec) } catch {
                logger.warning("\(error)")
            }
        }
        return (watched, openExec)
    }

    /// Stops a group's reader, waits until its events in flight are answered, and closes it.
    private func retire(_ watch: Watch, within replyTimeout: Duration) {
        watch.links?.stop()
        watch.reader.stop()
        watch.done.wait()
        let deadline = DispatchTime.now() + .nanoseconds(Int(replyTimeout.nanoseconds) + 1_000_000_000)
        while watch.group.inFlight > 0, DispatchTime.now() < deadline { usleep(1000) }
        watch.group.close()
    }

    /// Stops reading, waits until every event in flight has been answered (at
    /// most `reply_timeout` later), stops the workers and closes the fanotify
    /// group. Idempotent; returns when all of that is done.
    public func stop() {
        let (watcher, trustWatcher) = state.withLock { s -> (MountWatcher?, TrustWatcher?) in
            defer { s.mountWatcher = nil; s.trustWatcher = nil }
            return (s.mountWatcher, s.trustWatcher)
        }
        watcher?.stop()
        trustWatcher?.stop()
        control.withLock { _ in
            let watch = state.withLock { s -> Watch? in
                guard !s.stopped else { return nil }
                s.stopped = true
                return s.watch
            }
            guard let watch else { return }
            retire(watch, within: policies.load().policy.agent.replyTimeout)
            if !workers.stop(within: .seconds(1)) {
                logger.warning("a decision worker is still busy (a decision that never returned): stopping without it")
            }
        }
    }

    /// Drops every cached decision: the kernel's ignore marks and the agent's own cache.
    public func flushCaches() {
        let group = state.withLock { $0.watch.group }
        cache.flush(group)
        policies.load().decisions?.removeAll()
    }

    /// Events read from the kernel and not answered yet: the openers waiting
    /// on the agent now (STATUS= and SIGUSR1 show it; 0 after `stop()`).
    public var eventsInFlight: Int { responder.outstanding }
}

/// The agent reads /proc to decide; an open there would wait for the agent itself.
private func refuseProcessFilesystems(_ path: [UInt8], _ mounts: MountTable) throws(AgentError) {
    guard let device = deviceNumber(of: path), let fstype = mounts.lookUp(device: device)?.fstype else { return }
    if fstype == Array("proc".utf8) || fstype == Array("sysfs".utf8) {
        throw .refused("cannot watch \(printable(path)): fanfilter reads /proc and /sys to decide, so it cannot decide opens there")
    }
}

/// Each event in flight holds an fd (and a pidfd), and a batch read makes
/// them all at once: when the agent has none left, the kernel denies the
/// event without it ever seeing it. So the limit is raised to fit a full
/// queue, the hard limit too where the agent may (CAP_SYS_RESOURCE), and a
/// limit that stays too low is said loudly at start.
private func raiseFileLimit(atLeast wanted: Int, _ logger: Logger) {
    let wanted = UInt64(wanted)
    guard let (soft, hard) = OpenFileLimit.current, soft < wanted else { return }
    if hard < wanted, (try? OpenFileLimit.set(soft: wanted, hard: wanted)) != nil { return }
    let raised = min(hard, wanted)
    _ = try? OpenFileLimit.set(soft: raised, hard: hard)
    if raised < wanted {
        logger.error("RLIMIT_NOFILE is \(raised) and cannot be raised to \(wanted) (queue_size plus the agent's own files): once that many events are in flight the kernel denies further opens without asking fanfilter (counted as kernel-denied); raise LimitNOFILE or run with CAP_SYS_RESOURCE, or lower queue_size")
    }
}
