/// One compiled rule: `decision perm=P subject : object`.
/// Empty `subject` or `object` lists mean `all`.
public struct Rule: Sendable, Equatable {
    /// 1-based position in the policy, as logs and audit records name it.
    public var number: Int
    public var decision: RuleDecision
    public var perm: Perm
    public var subject: [Test]
    public var object: [Test]
    public var location: SourceLocation
    /// The rule as written (comment and surrounding blanks removed).
    public var text: String

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
}
