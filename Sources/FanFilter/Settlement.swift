import AgentLog
import FilterPort
import Glibc
import Policy
import Synchronization

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
