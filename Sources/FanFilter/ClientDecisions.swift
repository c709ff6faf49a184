import Clocks
import FilterPort
import Glibc
import Policy
import PortProtocol
import PortServer

/// `ask` rules answered by the socket port's deciders (a scanner, an
/// approval tool): the event goes, as a wire message with the file's first
/// `content_bytes` (read through the event's fd, never a new open) and with
/// `pass_fd` a duplicate of that fd, to a decider that serves its access and
/// rule, with the time left before the event's own deadline, less a margin.
///
/// Guarantee: `answer` runs exactly once for each event asked: with the
/// client's verdict, or with the setting for what happened instead:
/// `on_no_client` (no decider serves it), `on_timeout`/`on_timeout_execute`
/// (late, or a reply it could not use), `on_disconnect` (the decider left with
/// it), `on_overload`/`on_overload_execute` (the port's backlog is full).
/// A decider's own process is never asked about (it would wait on itself).
final class ClientDecisions: Sendable {
    let server: PortServer
    /// From an event sent to the deciders to what answered it.
    let latency: LatencyHistogram

    /// What answered an asked event.
    struct Answer {
        var verdict: Verdict
        /// The client that decided, when one did.
        var client: String?
        /// The setting that answered instead, and why.
        var setting: String?
        var why: String
    }

    init(server: PortServer, latency: LatencyHistogram) {
        self.server = server
        self.latency = latency
    }

    /// Whether `pid` is a connected decider's process (its opens are not asked about).
    func isClient(_ pid: Int32) -> Bool { server.hasDeciders && server.isDeciderProcess(pid) }

    /// Sends the event; `answer` runs once, on whichever thread settles it.
    func ask(_ event: EventMessage, _ request: AccessRequest, rule: Rule, stat st: stat?,
             answer: @escaping @Sendable (Answer) -> Void) {
        // Fields read where they are (a whole Policy or AgentSettings copied is dozens of retains).
        let active = event.policy
        let s = request.subject
        let fd = event.file.fd.rawValue
        var record = EventRecord(access: event.access == .execute ? .execute : .open, pid: event.pid,
                                 uid: s.uid ?? .max, gid: s.gid ?? .max,
                                 device: st.map { UInt64($0.st_dev) } ?? 0, inode: st.map { UInt64($0.st_ino) } ?? 0,
                                 rule: UInt32(rule.number), moreEventsWaiting: event.moreEventsWaiting, fileSize: st.map { UInt64($0.st_size) } ?? 0,
                                 path: request.object.path ?? [], comm: s.comm ?? [], exe: s.exe ?? [])
        let contentBytes = active.policy.agent.contentBytes
        if contentBytes > 0 { record.content = readStart(of: fd, count: contentBytes) }
        let descriptor = active.policy.agent.passDescriptor ? SharedDescriptor(duplicating: fd) : nil
        record.hasDescriptor = descriptor != nil
        // The client's deadline comes first, so what happened is logged with its name.
        let total = UInt64(active.policy.agent.replyTimeout.nanoseconds)
        let deadline = event.receivedAt &+ total &- min(total / 10, 20_000_000)
        let now = SystemClock().now()
        let left = deadline > now ? deadline - now : 0
        let message = WireMessage(event: record, descriptor: descriptor, deadline: deadline)
        // The closure holds what its answer needs, not the event or the policy: it lives as long as the message.
        let fallbacks = Fallbacks(access: event.access, policy: active.policy)
        server.port.send(message, replyCapacity: PortLimits.replyPayloadSize, timeout: .nanoseconds(Int64(left))) { [latency] _, _, outcome in
            latency.record(from: now, to: SystemClock().now())
            answer(fallbacks.answer(for: outcome))
        }
    }

    /// The verdicts the settings give an asked event that no client decided.
    private struct Fallbacks {
        var onTimeout: Verdict
        var timeoutSetting: String
        var onOverload: Verdict
        var overloadSetting: String
        var onDisconnect: Verdict
        var onNoClient: Verdict

        init(access: Access, policy: Policy) {
            onTimeout = policy.agent.onTimeout(access)
            timeoutSetting = DecisionLog.timeoutSetting(access)
            onOverload = policy.agent.onOverload(access)
            overloadSetting = DecisionLog.overloadSetting(access)
            onDisconnect = policy.settings.onDisconnect
            onNoClient = policy.settings.onNoClient
        }

        func answer(for outcome: SendOutcome<ClientReply>) -> Answer {
            switch outcome {
            case .replied(let header, let reply):
                let name = reply.client
                guard header.status == 0, let verdict = ClientFrame.verdict(of: reply.payload) else {
                    return Answer(verdict: onTimeout, client: name, setting: timeoutSetting,
                                  why: "client '\(name)' could not decide (status \(header.status))")
                }
                return Answer(verdict: verdict == .deny ? .deny : .allow, client: name, setting: nil, why: "")
            case .timedOut(let delivered):
                return Answer(verdict: onTimeout, client: nil, setting: timeoutSetting,
                              why: delivered ? "the client did not answer in time" : "no client primed a get in time")
            case .replyTooLarge(let count, let capacity):
                return Answer(verdict: onTimeout, client: nil, setting: timeoutSetting,
                              why: "the client's reply was \(count) bytes, more than \(capacity)")
            case .disconnected:
                return Answer(verdict: onDisconnect, client: nil, setting: "on_disconnect",
                              why: "the client disconnected before answering")
            case .noClient:
                return Answer(verdict: onNoClient, client: nil, setting: "on_no_client",
                              why: "no connected client serves this rule")
            case .backlogFull:
                return Answer(verdict: onOverload, client: nil, setting: overloadSetting,
                              why: "the clients' port already holds queue_size unanswered messages")
            }
        }
    }

    /// The file's first `count` bytes, through the event's fd (pread: no new
    /// open, no event, the fd's offset untouched); fewer at end of file or on an error.
    private func readStart(of fd: Int32, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(got)) }
            if n > 0 { got += n; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        bytes.removeSubrange(got...)
        return bytes
    }
}
