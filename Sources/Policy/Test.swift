/// One attribute test of a rule: `attr=v1,v2`, `attr!=%set`, `size>4096`.
public struct Test: Sendable, Equatable, Hashable {
    public var attribute: Attribute
    public var comparison: Comparison
    public var values: [Pattern]

    public init(_ attribute: Attribute, _ comparison: Comparison = .equal, _ values: [Pattern]) {
        self.attribute = attribute
        self.comparison = comparison
        self.values = values
    }

    /// The facts the agent must learn to run this test.
    public var facts: Facts {
        guard values.contains(.untrusted), let trust = attribute.untrustedFact else { return attribute.fact }
        return attribute.fact.union(trust.fact)
    }
}
