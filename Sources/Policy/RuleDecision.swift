/// A rule's decision: the verdict, and what else it asks for.
public enum RuleDecision: String, Sendable, Equatable, CaseIterable {
    case allow, deny
    case allowLog = "allow_log"
    case denyLog = "deny_log"
    /// Also a kernel audit record (FAN_AUDIT), naming the rule number.
    case allowAudit = "allow_audit"
    case denyAudit = "deny_audit"
    /// Asks a connected external client; without one, the answer is `on_no_client`.
    case ask

    /// The verdict, for all but `ask`.
    public var verdict: Verdict? {
        switch self {
        case .allow, .allowLog, .allowAudit: .allow
        case .deny, .denyLog, .denyAudit: .deny
        case .ask: nil
        }
    }

    public var logs: Bool { self == .allowLog || self == .denyLog }
    public var audits: Bool { self == .allowAudit || self == .denyAudit }
}
