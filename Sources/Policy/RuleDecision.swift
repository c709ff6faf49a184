/// A rule's decision: the verdict, and what else it asks for.
public enum RuleDecision: String, Sendable, Equatable, CaseIterable {
    case allow, deny
    case allowLog = "allow_log"
    case denyLog = "deny_log"
    /// Also a kernel audit record (FAN_AUDIT), naming the rule number.
    case allowAudit = "allow_audit"
    case denyAudit = "deny_audit"
    /// fapolicyd's names for a logged decision: the same as `allow_log` and `deny_log`.
    case allowSyslog = "allow_syslog"
    case denySyslog = "deny_syslog"
    /// Asks a connected external client; without one, the answer is `on_no_client`.
    case ask

    /// The verdict, for all but `ask`.
    public var verdict: Verdict? {
        switch self {
        case .allow, .allowLog, .allowAudit, .allowSyslog: .allow
        case .deny, .denyLog, .denyAudit, .denySyslog: .deny
        case .ask: nil
        }
    }

    public var logs: Bool { [.allowLog, .denyLog, .allowSyslog, .denySyslog].contains(self) }
    public var audits: Bool { self == .allowAudit || self == .denyAudit }
}
