import Clocks
import FilterPort
import Glibc
import Policy
import PortProtocol
import PortServer
import SystemCall
import SystemPackage

/// `ask` rules answered by the socket port's deciders (a scanner, an
/// approval tool): what a decider is sent, and what each outcome of that
/// message answers. The event goes, as a wire message with the file's first
/// `content_bytes` (read through the event's fd, never a new open) and with
/// `pass_fd` a duplicate of that fd, in the agent's port's deciders' lane, to
/// a decider that serves its access and rule, with the time left before the
/// event's own deadline, less a margin.
///
/// Guarantee: each outcome of an asked event's message gives one answer:
/// the client's verdict, or the setting for what happened instead:
/// `on_no_client` (no decider serves it), `on_timeout`/`on_timeout_execute`
/// (late, or a reply it could not use), `on_disconnect` (the decider left with
/// it), `on_overload`/`on_overload_execute` (the port's backlog is full).
/// A decider's own process is never asked about (it would wait on itself).
package struct ClientDecisions: Sendable {
    let server: PortServer

    package init(server: PortServer) { self.server = server }

    /// What answered an asked event.
    package struct Answer {
        package var verdict: Verdict
        /// The client that decided, or whose reply with a non-zero status left the answer to `on_timeout`.
        package var client: String?
        /// The setting that answered instead, and why.
        package var setting: String?
        package var why: String
    }

    /// Whether `pid` is a connected decider's process (its opens are not asked about).
    func isClient(_ pid: Int32) -> Bool { server.isDeciderProcess(pid) }

    /// What the deciders are sent for `event`, which `rule` asks about.
    static func question(_ event: EventMessage, _ request: AccessRequest, rule: Rule, stat st: stat?,
                         openedAs: [UInt8]?) -> AskedEvent {
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
        // Through the event's fd (pread: no new open, no event, the fd's offset untouched).
        if contentBytes > 0 { record.content = (try? FileDescriptor(rawValue: fd).read(count: contentBytes, at: 0)) ?? [] }
        let descriptor = active.policy.agent.passDescriptor ? SharedDescriptor(duplicating: fd) : nil
        record.hasDescriptor = descriptor != nil
        // The client's deadline comes first, so what happened is logged with its name.
        let total = UInt64(active.policy.agent.replyTimeout.nanoseconds)
        let deadline = event.receivedAt &+ total &- min(total / 10, 20_000_000)
        return AskedEvent(wire: WireMessage(event: record, descriptor: descriptor, deadline: deadline),
                          rule: rule, request: request, openedAs: openedAs)
    }

    /// The answer an outcome of an asked event's message gives, under `policy`.
    package static func answer(for outcome: SendOutcome<DecisionReply>, _ access: Access, _ policy: Policy) -> Answer {
        let onTimeout = Answer(verdict: policy.agent.onTimeout(access), client: nil,
                               setting: DecisionLog.timeoutSetting(access), why: "")
        switch outcome {
        case .replied(let header, .client(let reply)):
            let name = reply.client
            guard header.status == 0, let verdict = ClientFrame.verdict(of: reply.payload) else {
                return Answer(verdict: onTimeout.verdict, client: name, setting: onTimeout.setting,
                              why: "client '\(name)' could not decide (status \(header.status))")
            }
            return Answer(verdict: verdict == .deny ? .deny : .allow, client: name, setting: nil, why: "")
        case .replied:
            // Only deciders take the deciders' lane: a worker's reply cannot come here.
            return Answer(verdict: onTimeout.verdict, client: nil, setting: onTimeout.setting, why: "no client's reply")
        case .timedOut(let delivered):
            return Answer(verdict: onTimeout.verdict, client: nil, setting: onTimeout.setting,
                          why: delivered ? "the client did not answer in time" : "no client primed a get in time")
        case .replyTooLarge(let count, let capacity):
            return Answer(verdict: onTimeout.verdict, client: nil, setting: onTimeout.setting,
                          why: "the client's reply was \(count) bytes, more than \(capacity)")
        case .disconnected:
            return Answer(verdict: policy.settings.onDisconnect, client: nil, setting: "on_disconnect",
                          why: "the client disconnected before answering")
        case .noClient:
            return Answer(verdict: policy.settings.onNoClient, client: nil, setting: "on_no_client",
                          why: "no connected client serves this rule")
        case .backlogFull:
            return Answer(verdict: policy.agent.onOverload(access), client: nil, setting: DecisionLog.overloadSetting(access),
                          why: "the port already holds queue_size unanswered messages")
        }
    }
}
