/// What the policy says of one request.
public struct Decision: Sendable, Equatable {
    public var verdict: Verdict
    /// The rule that decided, or nil when none matched (the `default` setting).
    public var rule: Rule?

    public init(verdict: Verdict, rule: Rule?) {
        self.verdict = verdict
        self.rule = rule
    }

    public var logs: Bool { rule?.decision.logs ?? false }
    public var audits: Bool { rule?.decision.audits ?? false }
    public var asks: Bool { rule?.decision == .ask }
}
