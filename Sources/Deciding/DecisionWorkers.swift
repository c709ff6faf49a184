import AgentCounts
import CFanotify
import Clocks
import Dispatch
import EventFacts
import Fanotify
import FilterPort
import Glibc
import Policy
import Synchronization
import SystemCall
import SystemPackage
import TrustStore

/// The decision threads: one client of the port (its workers' lane), `count` threads, each
/// holding `prime` primed gets (the WDK scanner's requests per thread). A
/// worker takes a message, gathers through the event's fds the facts that the
/// rules which could match the file read, looks the decision up in the
/// policy's decision cache or decides it (hashing the file if a rule asks),
/// replies by message id and primes again. A reply that finds no waiter (its
/// event was already answered on timeout) is counted, never written to the
/// kernel. Logged decisions are logged by the worker, after its reply. A
/// decision an `ask` rule leaves to the socket port's deciders is the
/// worker's reply too (`DecisionReply.ask`): the port sends the event on to
/// them, and the worker goes on at once.
package final class DecisionWorkers: Sendable {
    package typealias Decide = @Sendable (AccessRequest) -> Decision

    private let port: FilterPort<EventMessage, DecisionReply>
    private let client: ClientPort<EventMessage, DecisionReply>
    private let counters: Counters
    private let latencies: Latencies
    private let log: DecisionLog
    private let mounts: MountTable
    private let names: ProcessNames
    private let decide: Decide?
    /// The socket port's deciders, for `ask` rules (nil: `ask` gets `on_no_client`).
    private let clients: ClientDecisions?
    private let hasher: BackgroundHasher
    /// `ftype`, for objects and executables.
    private let fileTypes: FileTypes
    /// `pattern`: each process's start.
    private let starts = StartPatterns()
    private let count: Int
    /// Whether the event reader decides messages itself (see `sendAndDecide`):
    /// always, but with a `decide` hook (an in-process decider may take any time).
    private let readerDecides: Bool
    /// Where a message the reader took goes on when deciding it would wait
    /// (a file to read or hash, the executable to open, another evaluation
    /// of the same key): the reader never waits.
    private let spill: SpillThreads
    private let done = DispatchGroup()
    /// The messages waiting for a digest, and the digests the hasher handed back.
    private let parked = ParkedMessages()

    /// - Parameter decide: replaces the policy's decision, and bypasses the cache.
    package init(port: FilterPort<EventMessage, DecisionReply>, count: Int, prime: Int, priorityBoost: Int = 0,
                 counters: Counters, latencies: Latencies,
         log: DecisionLog, mounts: MountTable, names: ProcessNames, decide: Decide?, clients: ClientDecisions?) throws(PortError) {
        self.port = port
        client = try port.connect(context: Array("fanfilter-workers".utf8))
        self.counters = counters
        hasher = BackgroundHasher(hasher: ObjectHasher(counters: counters))
        fileTypes = FileTypes(counters: counters)
        self.latencies = latencies
        self.log = log
        self.mounts = mounts
        self.names = names
        self.decide = decide
        self.clients = clients
        self.count = count
        readerDecides = decide == nil
        spill = SpillThreads(count: count, priorityBoost: priorityBoost, group: done)
        try client.prime(count * prime)
        for n in 0..<count {
            DispatchQueue(label: "fanfilter.worker.\(n)").async(group: done) { [self] in
                ThreadPriority.boosted(by: priorityBoost) { work() }
            }
        }
        spill.start { [self] message in handle(message) }
    }

    private func work() {
        while let message = try? client.getMessage() { handle(message) }
    }

    /// Sends `message` on the port for the reader, which then decides it
    /// itself when no worker spins for it (`ClientPort.sendAndTake`): events
    /// that come one or a few at a time cost no wake-up of another thread,
    /// and the message still has its deadline and is settled by its reply,
    /// as a worker's. Events that come meanwhile wait in the kernel's queue
    /// for the microseconds this takes. A decision that would wait (see
    /// `spill`) is handed to a spill thread instead. True when the reader
    /// decided it or handed it on; false when the port delivered it to a
    /// worker, kept it for one, or refused it (its outcome says which).
    package func sendAndDecide(_ message: EventMessage, timeout: Duration,
                               onOutcome: @escaping FilterPort<EventMessage, DecisionReply>.OutcomeHandler) -> Bool {
        guard readerDecides else {
            port.send(message, replyCapacity: DecisionReply.capacity, timeout: timeout, onOutcome: onOutcome)
            return false
        }
        guard let taken = client.sendAndTake(message, replyCapacity: DecisionReply.capacity, timeout: timeout,
                                             onOutcome: onOutcome) else { return false }
        if handle(taken, inline: true) {
            counters.increment(.readerDecided)
        } else {
            spill.push(taken)
        }
        return true
    }

    /// Decides and replies; false, having done nothing, when `inline` and the
    /// decision would wait. A decision that waits for a file's digest is
    /// parked: the hasher hands the message back to a spill thread once the
    /// digest is there (the port answers it by its deadline meanwhile), so no
    /// thread waits for a hash.
    @discardableResult
    private func handle(_ message: PortMessage<EventMessage>, inline: Bool = false) -> Bool {
        let event = message.payload
        let taken = SystemClock().now()
        let finding: Finding
        let id = message.header.messageId
        switch decision(for: message, inline: inline) {
        case .decided(let decided): finding = decided
        case .wouldWait: return false
        case .parked:
            // The message no longer holds this thread's get: another message may take it meanwhile.
            let (prime, resume) = parked.park(id)
            if prime { try? client.prime() }
            if resume { spill.push(message) }
            return true
        }
        // A message parked before has primed its get again already.
        let primes = !parked.decided(id)
        latencies.workerWait.record(from: event.receivedAt, to: taken)
        var request = finding.request
        let decision = finding.decision
        if let clients, let rule = decision.rule, decision.asks, !clients.isClient(event.pid) {
            learnLoggedFacts(&request, event)
            let asked = ClientDecisions.question(event, request, rule: rule, stat: finding.stat, openedAs: finding.openedAs)
            do { try client.reply(id, .ask(asked)) } catch { counters.increment(.lateReplies) }
            if primes { try? client.prime() }
            return true
        }
        let wouldDeny = decision.verdict == .deny && event.policy.policy.agent.mode != .enforce
        // A decision a setting made because no rule could is always logged.
        let logs = wouldDeny || decision.logs || finding.answeredBy != nil
            || (finding.openedAs != nil && decision.verdict == .deny)
        // Read now, while the opener still waits for the answer.
        if logs { learnLoggedFacts(&request, event) }
        do {
            try client.reply(id, .decided(decision, cacheable: finding.cacheable, setting: finding.answeredBy?.setting))
            if finding.leased, event.access == .execute, decision.verdict == .allow { ContentLease.outlive(event.file) }
            if logs {
                log.decision(request, decision, wouldDeny: wouldDeny, portMessageID: id,
                             latencyMicroseconds: (SystemClock().now() &- event.receivedAt) / 1000,
                             setting: finding.answeredBy?.setting, why: finding.answeredBy?.why ?? "",
                             openedAs: finding.openedAs)
            }
        } catch {
            counters.increment(.lateReplies)
        }
        if primes { try? client.prime() }
        return true
    }

    /// Files up to this size are hashed by the thread that needs the digest
    /// (a millisecond or two), larger ones by the background hasher.
    static let hashedHere: Int = 1 << 20

    /// The facts every logged decision names, read through the event's pidfd where the rules did not need them.
    private func learnLoggedFacts(_ request: inout AccessRequest, _ event: EventMessage) {
        let missing = Facts.logged.subtracting(facts(of: request.subject))
        guard !missing.isEmpty else { return }
        let more = ProcFacts.subject(pid: event.pid, pidfd: event.file.pidfdNumber, needs: missing, mounts: mounts, names: names)
        request.subject.exe = request.subject.exe ?? more.exe
        request.subject.comm = request.subject.comm ?? more.comm
        request.subject.uid = request.subject.uid ?? more.uid
        request.subject.gid = request.subject.gid ?? more.gid
    }

    /// What a worker learned and decided for one event.
    private struct Finding {
        var request: AccessRequest
        var decision: Decision
        /// An allow any process would get for this file: the kernel may cache it.
        var cacheable: Bool
        /// The path the opener used, when the decision was on another (see `ObjectPath`).
        var openedAs: [UInt8]?
        /// The setting that answered because no rule could, and why (always logged).
        var answeredBy: (setting: String, why: String)?
        /// The file's stat through the event's fd, when it could be read.
        var stat: stat?
        /// The decision rests on the contents, held still by a `ContentLease`.
        var leased = false
    }

    private enum Step {
        case decided(Finding)
        /// `inline`, and deciding would wait: nothing was changed.
        case wouldWait
        /// Waits for a digest: the hasher hands the message back when it is there.
        case parked
    }

    /// The request as the worker learned it, and the decision for it; nil,
    /// with no state changed, when `inline` and it would wait: for a file's
    /// contents not read before (its type, its digest, a program's headers),
    /// the executable's own open, a process's environment, or another
    /// thread's evaluation of the same key.
    private func decision(for message: PortMessage<EventMessage>, inline: Bool) -> Step {
        let event = message.payload
        // A start state takes each event once, by its message id.
        let id = message.header.messageId
        let policy = event.policy.policy
        let fd = event.file.fd.rawValue
        var st = stat()
        var mountID: UInt64 = 0
        let statted = cfan_fstat_mount(fd, &st, &mountID) == 0
        // Without the mount the path cannot be trusted: it stays unknown.
        let named = statted ? ObjectPath.of(fd, mountID: mountID, stat: st, mounts: mounts) : ObjectPath()
        let path = named.path
        if path == nil, policy.testsPath(for: event.access) { return .decided(unknownPath(event, openedAs: named.openedAs)) }
        let candidates = policy.candidates(for: event.access, path: path)
        let needs = policy.neededFacts(among: candidates)
        // A decision on the file's contents holds them still until the answer (see ContentLease);
        // a file open for writing has no contents a decision may rest on.
        let content = statted && st.st_mode & S_IFMT == S_IFREG ? policy.contentFacts(in: needs) : []
        let lease = content.isEmpty ? ContentLease.unsupported : ContentLease.hold(event.file)
        if lease == .held {
            // Under the lease, the identity the caches key on is the one the contents have.
            var fresh = stat()
            if cfan_fstat_mount(fd, &fresh, &mountID) == 0 { st = fresh }
        }
        let changing = lease == .openForWriting
        // A connected decider's own access: `ask` rules are passed over (it would wait on
        // itself), and what the others decide is its alone, so it is not cached.
        let decidersOwn = policy.asks && clients?.isClient(event.pid) == true
        let cache = decide == nil && !changing && !decidersOwn ? event.policy.decisions : nil
        var request = AccessRequest(
            access: event.access,
            subject: ProcFacts.subject(pid: event.pid, pidfd: event.file.pidfdNumber, needs: needs, mounts: mounts, names: names),
            object: ProcFacts.object(path: path, stat: statted ? st : nil, needs: needs, mounts: mounts))
        request.object.contentsChanging = changing
        guard learnStartAndExecutable(&request, event, id: id, stat: statted ? st : nil, needs: needs, inline: inline),
              !statted || changing || learnFileType(&request, event, stat: st, needs: needs, inline: inline),
              !(inline && statted && !changing && digestsWouldWait(event, stat: st, path: path, needs: needs))
        else { return .wouldWait }

        var flight: (DecisionCache, DecisionCache.Key, DecisionCache.Flight)?
        if let cache, statted {
            let key = DecisionCache.Key(event.access, st, path: path, subject: request.subject, needs: needs)
            switch lookUp(key, in: cache, inline: inline, timeout: policy.agent.replyTimeout) {
            case .found(let entry):
                return .decided(Finding(request: request, decision: entry.decision(in: policy), cacheable: entry.cacheable,
                                        openedAs: named.openedAs, stat: st, leased: lease == .held))
            case .wouldWait: return .wouldWait
            case .mine(let mine): flight = (cache, key, mine)
            case .gone: break
            }
        }
        var answeredBy: (setting: String, why: String)?
        var decision: Decision
        let hashed = learnDigests(&request, message, stat: statted ? st : nil, needs: needs,
                                  trustReadsContents: changing && content.contains(.trust), changing: changing, inline: inline)
        if hashed == .late || (inline && hashed == .busy) {
            // Inline: a digest gone from the cache since it was looked for, decided where it may
            // wait. Otherwise the hasher hands the message back with the digest: it is parked.
            if let (cache, key, mine) = flight { cache.abandon(key, mine) }
            return inline ? .wouldWait : .parked
        }
        if hashed == .busy {
            answeredBy = (DecisionLog.overloadSetting(event.access),
                          "the process already has \(BackgroundHasher.perSubjectLimit) files being hashed, its user its share of a busy hash queue, or the queue is full")
            decision = Decision(verdict: policy.agent.onOverload(event.access), rule: nil)
        } else {
            let start = SystemClock().now()
            decision = decide?(request) ?? policy.decide(request, among: candidates, passingOverAsk: decidersOwn)
            latencies.evaluation.record(from: start, to: SystemClock().now())
        }
        let cacheable = answeredBy == nil && !decidersOwn && content.isEmpty && statted
            && mayBecomeIgnoreMark(decision, request, event, stat: st)
        if let (cache, key, mine) = flight {
            let settled = content.isEmpty || FileIdentity(st).isSettled
            cache.finish(key, mine, DecisionCache.Entry(decision, cacheable: cacheable),
                         keep: !decision.asks && answeredBy == nil && settled)
        }
        return .decided(Finding(request: request, decision: decision, cacheable: cacheable,
                                openedAs: named.openedAs, answeredBy: answeredBy, stat: statted ? st : nil, leased: lease == .held))
    }

    /// Whether a decision the rules made may become a kernel ignore mark. A
    /// decision made by `decide` never is: the policy did not make it. An
    /// ignore mark covers the inode under every name, so only a file with one
    /// name (and a path the agent knows) is marked: an allow for `ok/h` says
    /// nothing of `deny/h`. The caller leaves out one that rests on the
    /// contents: a write through a shared mapping raises no event that would
    /// clear the mark (the agent's own cache keeps those by the file's
    /// identity, which such a write moves, once the file is settled).
    private func mayBecomeIgnoreMark(_ decision: Decision, _ request: AccessRequest, _ event: EventMessage, stat st: stat) -> Bool {
        let policy = event.policy.policy
        return decide == nil && policy.agent.cache == .kernel && event.group.permission
            && st.st_nlink == 1 && request.object.path != nil && policy.allowsForEveryProcess(request, decision)
    }

    /// What answers an event whose path the agent could not learn while a rule
    /// tests paths: `on_unknown_path` (the rules would treat the unknown path
    /// as matching no test, so every `dir=` deny would be skipped).
    private func unknownPath(_ event: EventMessage, openedAs: [UInt8]?) -> Finding {
        let request = AccessRequest(access: event.access, subject: SubjectFacts(pid: event.pid), path: nil)
        let verdict = event.policy.policy.settings.onUnknownPath(event.access)
        return Finding(request: request, decision: Decision(verdict: verdict, rule: nil), cacheable: false,
                       openedAs: openedAs,
                       answeredBy: (DecisionLog.unknownPathSetting(event.access), "the kernel gave no path the agent can use"))
    }

    /// The file's type, for `ftype` rules: from the cache of types, else read
    /// through the event's fd. False when `inline` and that would read. A
    /// FUSE file's contents come from a process that can stall them for ever:
    /// its type is not read (unknown: an ftype test does not match), as for an
    /// executable's.
    private func learnFileType(_ request: inout AccessRequest, _ event: EventMessage, stat st: stat, needs: Facts,
                               inline: Bool) -> Bool {
        guard needs.contains(.ftype) else { return true }
        if let known = fileTypes.cached(st) {
            request.object.ftype = known
            return true
        }
        let onFUSE = mounts.lookUp(device: UInt64(st.st_dev))?.fstype.starts(with: Array("fuse".utf8)) ?? false
        guard !onFUSE else { return true }
        if inline { return false }
        request.object.ftype = fileTypes.mimeType(of: event.file.fd.rawValue, stat: st) { event.policy.trust.lists($0) }
        return true
    }

    /// What the agent's own cache says of a key.
    private enum CacheLook {
        /// A decision made before (or by another thread meanwhile).
        case found(DecisionCache.Entry)
        /// Another thread is deciding it, and `inline` may not wait for it.
        case wouldWait
        /// This thread decides it and must finish or abandon the flight.
        case mine(DecisionCache.Flight)
        /// The other thread's evaluation did not end in time: decided here, uncached.
        case gone
    }

    private func lookUp(_ key: DecisionCache.Key, in cache: DecisionCache, inline: Bool, timeout: Duration) -> CacheLook {
        switch cache.lookUp(key) {
        case .hit(let entry): return .found(entry)
        case .miss(let mine): return .mine(mine)
        case .wait(let other):
            if inline { return .wouldWait }
            return other.wait(until: .after(timeout)).map(CacheLook.found) ?? .gone
        }
    }

    /// The digests the rules test (sha256hash, sha512hash, trust with
    /// integrity = sha256): `.digest` once each is known (or cannot be);
    /// `.late` or `.busy` from the hasher when one is not. Contents open for
    /// writing are never read: their digests stay unknown.
    private func learnDigests(_ request: inout AccessRequest, _ message: PortMessage<EventMessage>, stat st: stat?,
                              needs: Facts, trustReadsContents: Bool, changing: Bool,
                              inline: Bool) -> BackgroundHasher.HashAnswer {
        var hashed = needs.contains(.sha256) && !changing ? hash(message, inline: inline) : .digest(nil)
        if case .digest(let digest) = hashed { request.object.sha256 = digest }
        if case .digest = hashed, needs.contains(.sha512), !changing {
            hashed = hash(message, .sha512, inline: inline)
            if case .digest(let digest) = hashed { request.object.sha512 = digest }
        }
        guard case .digest = hashed, needs.contains(.trust), !trustReadsContents else { return hashed }
        let event = message.payload
        let fd = event.file.fd.rawValue
        let verity = { [counters] () -> [UInt8]? in
            counters.increment(.verityChecks)
            return Verity.digest(of: fd)
        }
        switch event.policy.trust.check(path: request.object.path, stat: st ?? stat(), verity: verity,
                                        digest: { hash(message, $0, inline: inline) }) {
        case .trusted(let yes): request.object.trusted = st == nil ? nil : yes
        case .late: return .late
        case .busy: return .busy
        }
        return hashed
    }

    /// The subject's facts that need its executable or its start: `ftype`,
    /// `device` and `trust` before the colon, and `pattern`, which every
    /// execution moves on while a rule tests it. False when `inline` and that
    /// would read or open what the reader must not wait for.
    private func learnStartAndExecutable(_ request: inout AccessRequest, _ event: EventMessage, id: UInt64, stat st: stat?,
                                         needs: Facts, inline: Bool) -> Bool {
        let active = event.policy
        if active.tracksStarts, let st, needs.contains(.pattern) || event.access == .execute {
            let lookup = starts.pattern(pid: event.pid, pidfd: event.file.pidfdNumber, access: event.access, event: id,
                                        file: event.file.fd.rawValue, stat: st, mayRead: !inline,
                                        preload: active.testsPreload) {
                // The kernel's cached attributes of the executable: no request to a FUSE server.
                ProcFacts.withExecutable(of: event.pid) { _, exe, _ in (UInt64(exe.st_dev), UInt64(exe.st_ino)) }
            }
            guard case .known(let pattern) = lookup else { return false }
            if needs.contains(.pattern) { request.subject.pattern = pattern }
        }
        guard !needs.isDisjoint(with: [.exeType, .exeDevice, .exeTrust]) else { return true }
        return ExecutableFacts.learn(&request.subject, pidfd: event.file.pidfdNumber, needs: needs, mounts: mounts, types: fileTypes,
                                     trust: active.trust, hasher: hasher.hasher, hashMaxSize: active.policy.settings.hashMaxSize,
                                     mayOpen: !inline)
    }

    /// Whether a digest this decision needs (filehash, trust with
    /// integrity = sha256) is not known yet: reading it may take until the
    /// event's deadline.
    private func digestsWouldWait(_ event: EventMessage, stat st: stat, path: [UInt8]?, needs: Facts) -> Bool {
        let settings = event.policy.policy.settings
        if needs.contains(.sha256), !hasher.isReady(st, .sha256, maxSize: settings.hashMaxSize) { return true }
        if needs.contains(.sha512), !hasher.isReady(st, .sha512, maxSize: settings.hashMaxSize) { return true }
        guard needs.contains(.trust), settings.integrity == .sha256, let path,
              let entry = event.policy.trust.database?.lookUp(path) else { return false }
        guard let algorithm = entry.digest.algorithm else { return false }
        return !hasher.isReady(st, algorithm, maxSize: settings.hashMaxSize)
    }

    /// The file's digest (SHA-256 unless told): handed back with the parked
    /// message, kept, read here for a small file, or else `.late`: the
    /// background hasher hashes it and hands the message back (`inline`: a
    /// digest not kept is `.late`, and nothing is queued).
    private func hash(_ message: PortMessage<EventMessage>, _ algorithm: LibCrypto.Algorithm = .sha256,
                      inline: Bool) -> BackgroundHasher.HashAnswer {
        let event = message.payload
        let id = message.header.messageId
        if let known = parked.digest(of: id, algorithm) { return .digest(known) }
        let maxSize = event.policy.policy.settings.hashMaxSize
        if inline { return hasher.cachedDigest(of: event.file, algorithm, maxSize: maxSize) ?? .late }
        // A small file on a filesystem that cannot stall is hashed here, at once: handing it to
        // the hasher's thread and waiting would cost more than the read.
        if let st = try? event.file.fd.stat().rawValue, st.st_mode & S_IFMT == S_IFREG, st.st_size <= Self.hashedHere,
           !(mounts.lookUp(device: UInt64(st.st_dev))?.fstype.starts(with: Array("fuse".utf8)) ?? true) {
            return .digest(hasher.hasher.digest(of: event.file.fd.rawValue, algorithm, maxSize: maxSize))
        }
        return hasher.digest(of: event.file, algorithm, maxSize: maxSize, subject: event.pid, until: .now()) { [self] digest in
            if parked.answer(id, algorithm, digest) { spill.push(message) }
        }
    }

    private func facts(of s: SubjectFacts) -> Facts {
        var known: Facts = []
        if s.exe != nil { known.insert(.exe) }
        if s.comm != nil { known.insert(.comm) }
        if s.uid != nil { known.insert(.uid) }
        if s.gid != nil { known.insert(.gid) }
        return known
    }

    /// Disconnects (every unanswered message ends `.disconnected`) and waits
    /// for the threads to leave, at most `grace`: a thread stuck in a
    /// decision is left behind (its reply would find no waiter anyway), so a
    /// stop never hangs on one. Returns false when one was left.
    @discardableResult
    package func stop(within grace: Duration) -> Bool {
        client.disconnect()
        spill.stop()
        let left = done.wait(timeout: .after(grace)) == .success
        if left { hasher.stop() }
        return left
    }
}
