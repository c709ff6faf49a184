/// A client's first frame: the version it speaks and its connection context
/// (FilterConnectCommunicationPort's context): a name for the logs, its role,
/// and for a decider which accesses and which `ask` rules it serves.
public struct Hello: Sendable, Equatable {
    public var version: UInt32
    public var role: Role
    /// Deciders: the accesses served (not empty). Others: ignored.
    public var accesses: AccessMask
    /// Observers: only decisions that deny (or would deny).
    public var deniedOnly: Bool
    /// Deciders: the rule numbers served; empty: every `ask` rule.
    public var rules: [UInt32]
    public var name: String

    public init(version: UInt32 = PortLimits.version, role: Role, accesses: AccessMask = .all,
                deniedOnly: Bool = false, rules: [UInt32] = [], name: String) {
        self.version = version
        self.role = role
        self.accesses = accesses
        self.deniedOnly = deniedOnly
        self.rules = rules
        self.name = name
    }

    /// Whether a decider with this context serves an event for `access` sent by rule `rule`.
    public func serves(_ access: WireAccess, rule: UInt32) -> Bool {
        role == .decider && accesses.contains(access.mask) && (rules.isEmpty || rules.contains(rule))
    }
}
