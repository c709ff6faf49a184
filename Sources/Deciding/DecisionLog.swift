import AgentLog
import Clocks
import EventFacts
import Fanotify
import Logging
import Policy

/// The entries the agent writes about decisions: one journal entry per logged
/// decision, with a human MESSAGE (`deny execute /tmp/x by /usr/bin/sh[1234]
/// uid=1000 rule=/etc/fanfilter/policy:12`) and the FANFILTER_* fields.
package struct DecisionLog: Sendable {
    let logger: Logger
    package let mounts: MountTable
    let names: ProcessNames

    package init(logger: Logger, mounts: MountTable, names: ProcessNames) {
        self.logger = logger
        self.mounts = mounts
        self.names = names
    }

    /// One logged decision. `setting` names the setting that answered when
    /// no rule could (`on_unknown_path_execute`, `on_timeout`, …): such an
    /// entry gets its own MESSAGE_ID, and the line says why.
    package func decision(_ request: AccessRequest, _ decision: Decision, wouldDeny: Bool,
                  portMessageID: UInt64, latencyMicroseconds: UInt64, setting: String? = nil, why: String = "",
                  openedAs: [UInt8]? = nil, client: String? = nil) {
        let s = request.subject
        let verdict = wouldDeny ? "would-deny" : decision.verdict.rawValue
        var line = (wouldDeny ? "would deny" : verdict) + " \(request.access.rawValue) "
        line += request.object.path.map { loggable($0) } ?? "(unknown path)"
        if let openedAs { line += " (opened as \(loggable(openedAs)))" }
        line += " by \(s.exe.map { loggable($0) } ?? "?")[\(s.pid)]"
        line += " uid=\(s.uid.map(String.init) ?? "?")"
        let id: MessageID = if let setting {
            setting.hasPrefix("on_unknown_path") ? .pathUnknown : setting.hasPrefix("on_overload") ? .overload : .replyTimedOut
        } else {
            wouldDeny ? .wouldDeny : decision.verdict == .deny ? .accessDenied : .accessAllowedLogged
        }
        var fields: Logger.Metadata = [
            Field.messageID: "\(id.rawValue)",
            Field.decision: "\(verdict)",
            Field.perm: "\(request.access.rawValue)",
            Field.subjectPID: "\(s.pid)",
            Field.portMessageID: "\(portMessageID)",
            Field.latency: "\(latencyMicroseconds)",
        ]
        if let setting {
            line += " setting=\(setting)" + (why.isEmpty ? "" : " (\(why))")
            fields[Field.setting] = "\(setting)"
        }
        if let client {
            line += " client=\(client)"
            fields[Field.client] = "\(client)"
        }
        if let path = request.object.path { fields[Field.path] = .stringConvertible(RawBytes(path)) }
        if let openedAs { fields[Field.openedAs] = .stringConvertible(RawBytes(openedAs)) }
        if let exe = s.exe { fields[Field.subjectExe] = .stringConvertible(RawBytes(exe)) }
        if let comm = s.comm { fields[Field.subjectComm] = .stringConvertible(RawBytes(comm)) }
        if let uid = s.uid { fields[Field.subjectUID] = "\(uid)" }
        if let gid = s.gid { fields[Field.subjectGID] = "\(gid)" }
        if let rule = decision.rule {
            line += " rule=\(rule.location.file):\(rule.location.line)"
            fields[Field.rule] = "\(rule.location.file):\(rule.location.line)"
            fields[Field.ruleNumber] = "\(rule.number)"
        }
        logger.log(level: decision.verdict == .deny ? .warning : .notice, "\(line)", metadata: fields)
    }

    static func unknownPathSetting(_ access: Access) -> String {
        access == .execute ? "on_unknown_path_execute" : "on_unknown_path"
    }

    static func timeoutSetting(_ access: Access) -> String {
        access == .execute ? "on_timeout_execute" : "on_timeout"
    }

    static func overloadSetting(_ access: Access) -> String {
        access == .execute ? "on_overload_execute" : "on_overload"
    }

    /// An event no worker decided in time, with the file and the process,
    /// so a timeout that let something through is never anonymous.
    package func timedOut(_ message: EventMessage, _ verdict: Verdict, replyTimeout: Duration) {
        undecided(message, verdict, setting: Self.timeoutSetting(message.access),
                  why: "no decision within reply_timeout \(replyTimeout)")
    }

    /// An event the queue had no room for (`why`), with the file and the
    /// process, so an open a flood let through is never anonymous either.
    package func overloaded(_ message: EventMessage, _ verdict: Verdict, why: String) {
        undecided(message, verdict, setting: Self.overloadSetting(message.access), why: why)
    }

    /// An event a setting answered before any rule could, named by facts read
    /// now through the event's fds. The log queue coalesces a storm (log_rate).
    private func undecided(_ message: EventMessage, _ verdict: Verdict, setting: String, why: String) {
        let named = ObjectPath(message.file.fd.rawValue, mounts: mounts)
        let request = AccessRequest(
            access: message.access,
            subject: ProcFacts.subject(pid: message.pid, pidfd: message.file.pidfdNumber, needs: Facts.logged, mounts: mounts, names: names),
            path: named.path)
        decision(request, Decision(verdict: verdict, rule: nil), wouldDeny: false, portMessageID: 0,
                 latencyMicroseconds: (SystemClock().now() &- message.receivedAt) / 1000,
                 setting: setting, why: why, openedAs: named.openedAs)
    }

    /// Logs `message` when its count `n` is 1, 2, 4, 8 …, so a storm is visible without flooding the log.
    package func occasionally(_ n: UInt64, _ id: MessageID, _ message: String) {
        guard n & (n - 1) == 0 else { return }
        logger.warning("\(message) [\(n) so far]", metadata: [Field.messageID: "\(id.rawValue)"])
    }
}
