import FilterPort
import Glibc
import Policy
import Synchronization

/// The one place a permission event is answered: it writes the response,
/// counts it, then closes the event fd, in that order. The kernel matches a
/// response by fd number and numbers are reused once closed, so a caller must
/// own the event (the port's settle-once, or the reader before it sends) and
/// answers it exactly once. Debug builds check that with a ledger of the
/// event fds read and not yet answered.
final class Responder: Sendable {
    private let group: FanotifyGroup
    private let counters: Counters
    #if DEBUG
    private let ledger = Mutex<Set<Int32>>([])
    #endif

    init(group: FanotifyGroup, counters: Counters) {
        self.group = group
        self.counters = counters
    }

    /// Notes an event fd the reader got from the kernel.
    func received(_ eventFD: Int32) {
        #if DEBUG
        let fresh = ledger.withLock { $0.insert(eventFD).inserted }
        precondition(fresh, "event fd \(eventFD) read again before it was answered")
        #endif
    }

    func answer(_ eventFD: Int32, _ verdict: Verdict) {
        #if DEBUG
        let owned = ledger.withLock { $0.remove(eventFD) != nil }
        precondition(owned, "event fd \(eventFD) answered twice (or never read)")
        #endif
        if group.respond(to: eventFD, verdict) != nil { counters.increment(.responseErrors) }
        counters.increment(.responses)
        counters.increment(verdict == .allow ? .allowed : .denied)
        close(eventFD)
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
/// worker's verdict (always allow in permissive mode), `on_timeout` when no
/// reply came in time, `on_overload` when the backlog was full.
struct Settlement: Sendable {
    let responder: Responder
    let counters: Counters
    let settings: Settings
    let log: DecisionLog

    func settle(_ message: EventMessage, _ outcome: SendOutcome<DecisionReply>) {
        switch outcome {
        case .replied(_, let reply):
            let decision = reply.decision
            let enforced = settings.mode == .enforce ? decision.verdict : .allow
            responder.answer(message.eventFD, enforced)
            if decision.verdict == .deny && enforced == .allow {
                counters.increment(.wouldDeny)
                log.decision(message.request, decision, wouldDeny: true)
            } else if decision.logs {
                log.decision(message.request, decision, wouldDeny: false)
            }
        case .timedOut, .replyTooLarge:
            responder.answer(message.eventFD, settings.onTimeout)
            counters.increment(.timedOut)
            log.occasionally(counters[.timedOut], "no decision within reply_timeout (\(settings.replyTimeout)): answered \(settings.onTimeout.rawValue)")
        case .backlogFull:
            responder.answer(message.eventFD, settings.onOverload)
            counters.increment(.overloaded)
            log.occasionally(counters[.overloaded], "queue full (queue_size \(settings.queueSize)): answered \(settings.onOverload.rawValue); consider a larger queue_size or more workers")
        case .noClient, .disconnected:
            responder.answer(message.eventFD, settings.onTimeout)
            counters.increment(.noWorker)
        }
    }
}
