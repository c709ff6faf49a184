import AgentLog
import FilterPort
import Glibc
import Policy
import Synchronization

/// The one place an event is answered: it writes the response (for a
/// permission event; observe mode's notifications need none), counts it, and
/// lets go of the event fd, in that order. The kernel matches a response by fd
/// number and numbers are reused once closed, so a caller must own the event
/// (the port's settle-once, or the reader before it sends) and answers it
/// exactly once. Debug builds check that with a ledger of the event fds read
/// and not yet answered.
final class Responder: Sendable {
    private let counters: Counters
    #if DEBUG
    private let ledger = Mutex<Set<Int32>>([])
    #endif

    init(counters: Counters) {
        self.counters = counters
    }

    /// Notes an event the reader got from the kernel.
    func received(_ file: EventFile, on group: FanotifyGroup) {
        group.inFlight.add(1, ordering: .relaxed)
        #if DEBUG
        let fresh = ledger.withLock { $0.insert(file.fd).inserted }
        precondition(fresh, "event fd \(file.fd) read again before it was answered")
        #endif
    }

    func answer(_ file: EventFile, on group: FanotifyGroup, _ verdict: Verdict, auditRule: Int? = nil) {
        #if DEBUG
        let owned = ledger.withLock { $0.remove(file.fd) != nil }
        precondition(owned, "event fd \(file.fd) answered twice (or never read)")
        #endif
        if group.permission, group.respond(to: file.fd, verdict, auditRule: auditRule) != nil {
            counters.increment(.responseErrors)
        }
        counters.increment(.responses)
        counters.increment(verdict == .allow ? .allowed : .denied)
        group.inFlight.subtract(1, ordering: .relaxed)
    }

    /// Event fds read and not yet answered (debug builds; 0 otherwise).
    var outstanding: Int {
        #if DEBUG
        ledger.withLock { $0.count }
        #else
        0
        #endif
    }
}

/// Turns the port's outcome for an event into the kernel's answer: the
/// worker's verdict (always allow in permissive and observe modes),
/// `on_timeout` (`on_timeout_execute` for an execution) when no reply came in
/// time, `on_overload` (`on_overload_execute`) when the queue was full, each
/// under the policy the event was read with. (The worker logs the
/// decisions a rule asks to log; this logs timeouts and overloads.)
struct Settlement: Sendable {
    let responder: Responder
    let counters: Counters
    let log: DecisionLog
    let cache: KernelCache

    func settle(_ header: MessageHeader, _ message: EventMessage, _ outcome: SendOutcome<DecisionReply>) {
        let settings = message.policy.policy.settings
        switch outcome {
        case .replied(_, let reply):
            let decision = reply.decision
            let enforced = settings.mode == .enforce ? decision.verdict : .allow
            // The ignore mark goes on before the answer, so the opener's next open is already cached.
            if reply.cacheable && enforced == .allow { cache.remember(message) }
            responder.answer(message.file, on: message.group, enforced,
                             auditRule: decision.audits ? decision.rule?.number : nil)
            if decision.verdict == .deny && enforced == .allow { counters.increment(.wouldDeny) }
        case .timedOut, .replyTooLarge:
            let verdict = enforced(settings.onTimeout(message.access), settings)
            // Logged (with the file and the process) before the answer, while the opener still waits.
            log.timedOut(message, verdict, replyTimeout: settings.replyTimeout)
            responder.answer(message.file, on: message.group, verdict)
            counters.increment(.timedOut)
        case .backlogFull:
            let verdict = enforced(settings.onOverload(message.access), settings)
            responder.answer(message.file, on: message.group, verdict)
            counters.increment(.overloaded)
            log.occasionally(counters[.overloaded], .overload, "queue full (queue_size \(settings.queueSize)): answered \(settings.onOverload.rawValue) to opens and \(settings.onOverloadExecute.rawValue) to executions; consider a larger queue_size or more workers")
        case .noClient, .disconnected:
            responder.answer(message.file, on: message.group, enforced(settings.onTimeout(message.access), settings))
            counters.increment(.noWorker)
        }
    }
}

/// permissive and observe modes never deny, whatever answered.
private func enforced(_ verdict: Verdict, _ settings: Settings) -> Verdict {
    settings.mode == .enforce ? verdict : .allow
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// The kernel-side decision cache: ignore marks placed after allows every
/// process would get, all dropped at once when they may have gone stale (a
/// reload, or a rename or new link on a watched filesystem). Each drop starts
/// a new epoch; a mark is placed only by a decision from an event read in the
/// current epoch. No lock is held across the mark's system call: a placement
/// that finds the epoch changed once its mark is on drops every mark again,
/// so no allow decided before a drop survives it.
final class KernelCache: Sendable {
    private let epoch = Atomic<UInt64>(1)
    private let counters: Counters

    init(counters: Counters) { self.counters = counters }

    /// The epoch an event read now belongs to.
    var current: UInt64 { epoch.load(ordering: .sequentiallyConsistent) }

    func remember(_ message: EventMessage) {
        guard message.cacheEpoch == current, message.group.ignore(message.file.fd, message.access) else { return }
        counters.increment(.ignoreMarks)
        // A drop that began before the mark went on may have missed it.
        if current != message.cacheEpoch { message.group.flushIgnoreMarks() }
    }

    /// Starts a new epoch, then drops every ignore mark of `group`.
    func flush(_ group: FanotifyGroup) {
        epoch.add(1, ordering: .sequentiallyConsistent)
        group.flushIgnoreMarks()
        counters.increment(.cacheFlushes)
    }

    /// A new group starts with no marks; events read before it belong to the old epoch.
    func reset() { epoch.add(1, ordering: .sequentiallyConsistent) }
}
