/// One compiled rule: `decision perm=P subject : object`.
/// Empty `subject` or `object` lists mean `all`. Immutable once parsed, and
/// shared: a decision, a log entry or a message that names the rule holds
/// one reference to it, not a copy of its tests and text.
public final class Rule: Sendable, Equatable {
    /// 1-based position in the policy, as logs and audit records name it.
    public let number: Int
    public let decision: RuleDecision
    public let perm: Perm
    public let subject: [Test]
    public let object: [Test]
    public let location: SourceLocation
    /// The rule as written (comment and surrounding blanks removed).
    public let text: String

    public init(number: Int, decision: RuleDecision, perm: Perm, subject: [Test], object: [Test],
                location: SourceLocation, text: String) {
        self.number = number
        self.decision = decision
        self.perm = perm
        self.subject = subject
        self.object = object
        self.location = location
        self.text = text
    }

    public static func == (a: Rule, b: Rule) -> Bool {
        a === b || (a.number == b.number && a.decision == b.decision && a.perm == b.perm && a.subject == b.subject
                    && a.object == b.object && a.location == b.location && a.text == b.text)
    }
}
