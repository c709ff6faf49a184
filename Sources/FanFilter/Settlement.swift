import AgentCounts
import AgentLog
import Clocks
import Deciding
import EventFacts
import Fanotify
import FilterPort
import Glibc
import Policy
import PortProtocol
import PortServer
import Synchronization

/// Turns the port's outcome for an event into the kernel's answer: the
/// worker's verdict (always allow in permissive and observe modes),
/// `on_timeout` (`on_timeout_execute` for an execution) when no reply came in
/// time, `on_overload` (`on_overload_execute`) when the queue was full, each
/// under the policy the event was read with. A worker's `ask` sends the
/// event on, in the port's deciders' lane; that message's outcome is a
/// decider's verdict or the setting `ClientDecisions` names for it. (The
/// worker logs the decisions a rule asks to log; this logs timeouts,
/// overloads and the deciders' denials and settings.)
///
/// Guarantee: each event ends in exactly one answer to the kernel: a
/// message's outcome either answers it or sends it on once, as an asked
/// event, whose outcome answers it.
struct Settlement: Sendable {
    /// The agent's port, for asked events.
    let port: FilterPort<EventMessage, DecisionReply>
    let responder: Responder
    let counters: Counters
    let log: DecisionLog
    let cache: KernelCache
    /// The socket port's observers (`fanfilter monitor`), when there is a port.
    let observers: ObserverFeed?
    /// From the event read to its answer.
    let latency: LatencyHistogram
    /// From an event sent to the deciders to what answered it.
    let clientLatency: LatencyHistogram
    /// Each user's counted events in a busy queue; an event counted there is released here.
    let userShare: UserShare
    /// Overloaded events logged with their file and process: at most `log_rate` a second,
    /// so that a storm of them does not cost the reader the facts of each.
    let overloadLog = RateGate()

    func settle(_ header: MessageHeader, _ message: EventMessage, _ outcome: SendOutcome<DecisionReply>) {
        if case .replied(_, .ask(let asked)) = outcome, message.ask == nil { return ask(message, asked) }
        defer {
            if let user = message.countedUser { userShare.release(user) }
            latency.record(from: message.receivedAt, to: SystemClock().now())
        }
        if let asked = message.ask { return answerAsked(header, message, asked, outcome) }
        let agent = message.policy.policy.agent
        switch outcome {
        case .replied(_, .decided(let decision, let cacheable, let setting)):
            let enforced = agent.mode == .enforce ? decision.verdict : .allow
            // The ignore mark goes on before the answer, so the opener's next open is already cached.
            if cacheable && enforced == .allow { cache.remember(message.file, on: message.group, message.access, readIn: message.cacheEpoch) }
            answer(message, decision, enforced, setting: setting, client: nil)
        case .replied, .timedOut, .replyTooLarge:
            // (A worker's reply is a decision or an ask; a decider's never comes to the workers' lane.)
            let verdict = enforced(agent.onTimeout(message.access), agent)
            // Logged (with the file and the process) before the answer, while the opener still waits.
            log.timedOut(message, verdict, replyTimeout: agent.replyTimeout)
            responder.answer(message.file, on: message.group, verdict)
            counters.increment(.timedOut)
            if let observers, observers.isWatched {
                publish(message, agent.onTimeout(message.access), verdict, rule: nil, setting: "on_timeout", client: nil, to: observers)
            }
        case .backlogFull:
            overloaded(message, why: "the queue already held queue_size \(agent.queueSize) events")
            log.occasionally(counters[.overloaded], .overload, "queue full (queue_size \(agent.queueSize)): answered \(agent.onOverload.rawValue) to opens and \(agent.onOverloadExecute.rawValue) to executions; consider a larger queue_size or more workers")
        case .noClient, .disconnected:
            responder.answer(message.file, on: message.group, enforced(agent.onTimeout(message.access), agent))
            counters.increment(.noWorker)
        }
    }
}

extension Settlement {
    /// The kernel's answer for a decision, counted and shown to the observers.
    private func answer(_ message: EventMessage, _ decision: Decision, _ enforced: Verdict, setting: String?, client: String?) {
        if let rule = decision.rule { message.policy.ruleHits.hit(rule.number) }
        responder.answer(message.file, on: message.group, enforced,
                         auditRule: decision.audits ? decision.rule?.number : nil)
        if decision.verdict == .deny && enforced == .allow { counters.increment(.wouldDeny) }
        if let observers, observers.isWatched {
            publish(message, decision.verdict, enforced, rule: decision.rule, setting: setting, client: client, to: observers)
        }
    }

    /// Sends an event an `ask` rule matched to the deciders, with the time
    /// left before its deadline; the outcome comes back here.
    private func ask(_ message: EventMessage, _ asked: AskedEvent) {
        var message = message
        message.ask = asked
        let now = SystemClock().now()
        let left = asked.wire.deadline > now ? asked.wire.deadline - now : 0
        port.send(message, replyCapacity: PortLimits.replyPayloadSize, timeout: .nanoseconds(Int64(left))) { [self] header, message, outcome in
            clientLatency.record(from: now, to: SystemClock().now())
            settle(header, message, outcome)
        }
    }

    /// The answer to an asked event: the decider's verdict, or the setting
    /// for what happened instead. A decider's denial is logged with its name,
    /// and every answer a setting gave; its allows are not (a scanner allows
    /// nearly everything: `fanfilter monitor` shows them).
    private func answerAsked(_ header: MessageHeader, _ message: EventMessage, _ asked: AskedEvent, _ outcome: SendOutcome<DecisionReply>) {
        let agent = message.policy.policy.agent
        let answer = ClientDecisions.answer(for: outcome, message.access, message.policy.policy)
        let decision = Decision(verdict: answer.verdict, rule: asked.rule)
        self.answer(message, decision, agent.mode == .enforce ? answer.verdict : .allow,
                    setting: answer.setting, client: answer.client)
        if let setting = answer.setting {
            counters.increment(setting.hasPrefix("on_timeout") ? .timedOut : setting.hasPrefix("on_overload") ? .overloaded : .clientGone)
        }
        if answer.verdict == .deny || answer.setting != nil {
            log.decision(asked.request, decision, wouldDeny: answer.verdict == .deny && agent.mode != .enforce,
                         portMessageID: header.messageId, latencyMicroseconds: (SystemClock().now() &- message.receivedAt) / 1000,
                         setting: answer.setting, why: answer.why, openedAs: asked.openedAs, client: answer.client)
        }
    }

    /// An event its user's share of a busy queue had no room for (never sent
    /// to the port): answered as one that found the queue full.
    func refuseOverShare(_ message: EventMessage, user: UInt32, bound: Int) {
        defer { latency.record(from: message.receivedAt, to: SystemClock().now()) }
        overloaded(message, why: "uid \(user) already has \(bound) events in a queue at least half full (queue_per_user)")
        log.occasionally(counters[.overloaded], .overload, "uid \(user) has queue_per_user (\(bound)) events in a queue at least half full: answered \(message.policy.policy.agent.onOverload.rawValue) to its opens and \(message.policy.policy.agent.onOverloadExecute.rawValue) to its executions")
    }

    /// `on_overload` (`on_overload_execute`), logged (with the file and the
    /// process, up to `log_rate` a second; the rest are counted) before the
    /// answer, as a timeout is.
    private func overloaded(_ message: EventMessage, why: String) {
        let agent = message.policy.policy.agent
        let verdict = enforced(agent.onOverload(message.access), agent)
        if overloadLog.pass(limit: agent.logRate, now: SystemClock().now()) { log.overloaded(message, verdict, why: why) }
        responder.answer(message.file, on: message.group, verdict)
        counters.increment(.overloaded)
        if let observers, observers.isWatched {
            publish(message, agent.onOverload(message.access), verdict, rule: nil, setting: "on_overload", client: nil, to: observers)
        }
    }

    /// A copy of the answer for the observers; the path is read (through the
    /// event's fd) only while one is connected.
    private func publish(_ message: EventMessage, _ verdict: Verdict, _ enforced: Verdict, rule: Rule?,
                         setting: String?, client: String?, to observers: ObserverFeed) {
        // A setting that answered for a client (a non-zero status gives on_timeout) is the source.
        let source: DecisionRecord.Source = if let setting {
            setting.hasPrefix("on_timeout") ? .timeout : setting.hasPrefix("on_overload") ? .overload
                : setting == "on_no_client" ? .noClient : setting == "on_disconnect" ? .disconnect : .unknownPath
        } else if client != nil { .client } else { rule == nil ? .noRule : .rule }
        let path = ObjectPath(message.file.fd.rawValue, mounts: log.mounts).path ?? []
        observers.publish(DecisionRecord(access: message.access == .execute ? .execute : .open, pid: message.pid,
                                         verdict: verdict == .deny ? .deny : .allow, notEnforced: verdict != enforced,
                                         source: source, rule: UInt32(rule?.number ?? 0), path: path,
                                         client: Array((client ?? "").utf8)))
    }
}

/// permissive and observe modes never deny, whatever answered.
private func enforced(_ verdict: Verdict, _ agent: AgentSettings) -> Verdict {
    agent.mode == .enforce ? verdict : .allow
}
