import CFanotify
import Dispatch
import FilterPort
import Glibc
import Policy

/// The decision threads: one client of the port, `count` threads, each
/// holding `prime` primed gets (the WDK scanner's requests per thread). A
/// worker takes a message, gathers through the event's fds the facts that the
/// rules which could match the file read, looks the decision up in the
/// policy's decision cache or decides it (hashing the file if a rule asks),
/// replies by message id and primes again. A reply that finds no waiter (its
/// event was already answered on timeout) is counted, never written to the
/// kernel. Logged decisions are logged by the worker, after its reply.
final class DecisionWorkers: Sendable {
    typealias Decide = @Sendable (AccessRequest) -> Decision

    private let client: ClientPort<EventMessage, DecisionReply>
    private let counters: Counters
    private let log: DecisionLog
    private let mounts: MountTable
    private let decide: Decide?
    private let hasher = ObjectHasher()
    private let done = DispatchGroup()

    /// - Parameter decide: replaces the policy's decision, and bypasses the cache (tests use it to stall).
    init(port: FilterPort<EventMessage, DecisionReply>, count: Int, prime: Int, counters: Counters,
         log: DecisionLog, mounts: MountTable, decide: Decide?) throws(PortError) {
        client = try port.connect(context: Array("fanfilter-workers".utf8))
        self.counters = counters
        self.log = log
        self.mounts = mounts
        self.decide = decide
        client.setThreads(count)
        try client.prime(count * prime)
        for n in 0..<count {
            DispatchQueue(label: "fanfilter.worker.\(n)").async(group: done) { [self] in work() }
        }
    }

    private func work() {
        while let message = try? client.getMessage() {
            let event = message.payload
            let settings = event.policy.policy.settings
            var (request, reply, openedAs) = decision(for: event)
            let wouldDeny = reply.decision.verdict == .deny && settings.mode != .enforce
            // A path the agent could not learn is decided by on_unknown_path, and always logged.
            let unknownPath = reply.decision.rule == nil && request.object.path == nil
                && event.policy.policy.testsPath(for: event.access)
            let logs = wouldDeny || reply.decision.logs || unknownPath || (openedAs != nil && reply.decision.verdict == .deny)
            if logs {
                // Read now, while the opener still waits for the answer.
                let missing = Facts.logged.subtracting(facts(of: request.subject))
                if !missing.isEmpty {
                    let more = ProcFacts.subject(pid: event.pid, pidfd: event.file.pidfd, needs: missing, mounts: mounts)
                    request.subject.exe = request.subject.exe ?? more.exe
                    request.subject.comm = request.subject.comm ?? more.comm
                    request.subject.uid = request.subject.uid ?? more.uid
                    request.subject.gid = request.subject.gid ?? more.gid
                }
            }
            do {
                try client.reply(message.header.messageId, reply)
                if logs {
                    log.decision(request, reply.decision, wouldDeny: wouldDeny, portMessageID: message.header.messageId,
                                 latencyMicroseconds: (monotonicNanoseconds() &- event.receivedAt) / 1000,
                                 setting: unknownPath ? DecisionLog.unknownPathSetting(event.access) : nil,
                                 why: unknownPath ? "the kernel gave no path the agent can use" : "", openedAs: openedAs)
                }
            } catch {
                counters.increment(.lateReplies)
            }
            try? client.prime()
        }
    }

    /// The request as the worker learned it, and the decision for it.
    private func decision(for event: EventMessage) -> (AccessRequest, DecisionReply, openedAs: [UInt8]?) {
        let policy = event.policy.policy
        let fd = event.file.fd
        var st = stat()
        var mountID: UInt64 = 0
        let statted = cfan_fstat_mount(fd, &st, &mountID) == 0
        // Without the mount the path cannot be trusted: it stays unknown.
        let named = statted ? ObjectPath.of(fd, mountID: mountID, stat: st, mounts: mounts) : ObjectPath()
        let path = named.path
        if path == nil, policy.testsPath(for: event.access) {
            // Rules would treat the unknown path as matching no test, so every `dir=` deny would be skipped.
            let request = AccessRequest(access: event.access, subject: SubjectFacts(pid: event.pid), path: nil)
            return (request, DecisionReply(decision: Decision(verdict: policy.settings.onUnknownPath(event.access), rule: nil),
                                           cacheable: false), named.openedAs)
        }
        let needs = policy.neededFacts(for: event.access, path: path)
        let cache = decide == nil ? event.policy.decisions : nil
        var request = AccessRequest(
            access: event.access,
            subject: ProcFacts.subject(pid: event.pid, pidfd: event.file.pidfd, needs: needs, mounts: mounts),
            object: ProcFacts.object(path: path, stat: statted ? st : nil, needs: needs, mounts: mounts))

        var flight: (DecisionCache, DecisionCache.Key, DecisionCache.Flight)?
        if let cache, statted {
            let key = DecisionCache.Key(event.access, st, path: path, subject: request.subject, needs: needs)
            switch cache.lookUp(key) {
            case .hit(let entry):
                return (request, DecisionReply(decision: entry.decision(in: policy), cacheable: entry.cacheable), named.openedAs)
            case .wait(let other):
                client.willBeSlow()
                if let entry = other.wait(until: .after(policy.settings.replyTimeout)) {
                    return (request, DecisionReply(decision: entry.decision(in: policy), cacheable: entry.cacheable), named.openedAs)
                }
            case .miss(let mine):
                flight = (cache, key, mine)
            }
        }
        if needs.contains(.sha256) {
            client.willBeSlow()
            request.object.sha256 = hasher.sha256(of: fd, maxSize: policy.settings.hashMaxSize)
        }
        let decision = decide?(request) ?? policy.decide(request)
        // A decision made by `decide` (tests) is never cached: the policy did not make it. An
        // ignore mark covers the inode under every name, so only a file with one name (and a
        // path the agent knows) is marked: an allow for `ok/h` says nothing of `deny/h`.
        let cacheable = decide == nil && policy.settings.cache == .kernel && event.group.permission
            && statted && st.st_nlink == 1 && path != nil
            && policy.allowsForEveryProcess(request, decision)
        if let (cache, key, mine) = flight {
            cache.finish(key, mine, DecisionCache.Entry(decision, cacheable: cacheable), keep: !decision.asks)
        }
        return (request, DecisionReply(decision: decision, cacheable: cacheable), named.openedAs)
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
    /// for the threads to leave.
    func stop() {
        client.disconnect()
        done.wait()
    }
}
