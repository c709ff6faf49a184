import AgentLog
import Logging
import Policy

/// The entries the agent writes about decisions: one journal entry per logged
/// decision, with a human MESSAGE (`deny execute /tmp/x by /usr/bin/sh[1234]
/// uid=1000 rule=/etc/fanfilter/policy:12`) and the FANFILTER_* fields.
struct DecisionLog: Sendable {
    let logger: Logger

    func decision(_ request: AccessRequest, _ decision: Decision, wouldDeny: Bool,
                  portMessageID: UInt64, latencyMicroseconds: UInt64) {
        let s = request.subject
        let verdict = wouldDeny ? "would-deny" : decision.verdict.rawValue
        var line = (wouldDeny ? "would deny" : verdict) + " \(request.access.rawValue) "
        line += request.object.path.map { loggable($0) } ?? "(unknown path)"
        line += " by \(s.exe.map { loggable($0) } ?? "?")[\(s.pid)]"
        line += " uid=\(s.uid.map(String.init) ?? "?")"
        let id: MessageID = wouldDeny ? .wouldDeny : decision.verdict == .deny ? .accessDenied : .accessAllowedLogged
        var fields: Logger.Metadata = [
            Field.messageID: "\(id.rawValue)",
            Field.decision: "\(verdict)",
            Field.perm: "\(request.access.rawValue)",
            Field.subjectPID: "\(s.pid)",
            Field.portMessageID: "\(portMessageID)",
            Field.latency: "\(latencyMicroseconds)",
        ]
        if let path = request.object.path { fields[Field.path] = .stringConvertible(RawBytes(path)) }
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

    /// Logs `message` when its count `n` is 1, 2, 4, 8 …, so a storm is visible without flooding the log.
    func occasionally(_ n: UInt64, _ id: MessageID, _ message: String) {
        guard n & (n - 1) == 0 else { return }
        logger.warning("\(message) [\(n) so far]", metadata: [Field.messageID: "\(id.rawValue)"])
    }
}
