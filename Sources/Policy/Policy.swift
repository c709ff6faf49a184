/// A checked policy: settings and rules, ready to evaluate. Immutable.
public struct Policy: Sendable {
    /// The agent's own settings (watch, workers, timeouts, cache, …).
    public let agent: AgentSettings
    /// The rule language's settings (default, on_no_client, hash_max_size, …).
    public let settings: Settings
    public let rules: [Rule]
    /// The file the policy came from, as errors and logs name it.
    public let source: String
    /// Warnings found while checking it (shadowed rules and the like).
    public let warnings: [PolicyDiagnostic]
    let index: RuleIndex
    /// Whether a rule sends its accesses to the port's deciders (`ask`).
    public let asks: Bool

    public init(agent: AgentSettings = AgentSettings(), settings: Settings = Settings(), rules: [Rule] = [],
                source: String = "<none>", warnings: [PolicyDiagnostic] = []) {
        self.agent = agent
        self.settings = settings
        self.rules = rules
        self.source = source
        self.warnings = warnings
        self.index = RuleIndex(rules)
        self.asks = rules.contains { $0.decision == .ask }
    }

    /// A warning for a policy that watches nothing (no `watch` or
    /// `watch_mount`): an agent running it sees no access at all.
    public var watchesNothingWarning: PolicyDiagnostic? {
        guard agent.watch.isEmpty && agent.watchMounts.isEmpty && agent.watchTypes.isEmpty else { return nil }
        return PolicyDiagnostic(location: SourceLocation(file: source, line: 0, column: 0), severity: .warning,
                                message: "the policy watches nothing (no watch, watch_mount or watch_fs setting): fanfilter would see no access")
    }

    /// Whether a rule for `access` tests the file's path: then a path the
    /// agent cannot learn is decided by `on_unknown_path`, never by the rules
    /// (which would skip every `dir=` deny).
    public func testsPath(for access: Access) -> Bool { index.pathTested[access == .open ? 0 : 1] }

    /// The first rule by which the policy allow-lists executions: a rule for
    /// executions that tests trust or a digest, of the file or of the
    /// process's executable. nil when there is none.
    public var executionAllowListRule: Rule? {
        rules.first { rule in
            rule.perm.covers(Access.execute)
                && (rule.subject + rule.object).contains { [.trust, .exeTrust, .sha256hash, .sha512hash].contains($0.attribute) }
        }
    }

    /// The facts of a file's contents among `facts`: its type and digests, and
    /// its trust when `integrity = sha256` (with `size` or `none` trust reads
    /// only the size or the path, which no write through a mapping changes).
    public func contentFacts(in facts: Facts) -> Facts {
        var content: Facts = [.ftype, .sha256, .sha512]
        if settings.integrity == .sha256 { content.insert(.trust) }
        return facts.intersection(content)
    }

    /// The rules that could match `access` to `path`, in rule order, found
    /// through the rule index once for `neededFacts(among:)` and `decide(_:among:)`.
    public func candidates(for access: Access, path: [UInt8]?) -> RuleCandidates {
        index.candidates(access, path: path)
    }

    /// The facts tested by the rules that could match `path` for `access`:
    /// what the agent must learn of this event to decide it.
    public func neededFacts(for access: Access, path: [UInt8]?) -> Facts {
        neededFacts(among: candidates(for: access, path: path))
    }

    /// The facts the `candidates` test.
    public func neededFacts(among candidates: RuleCandidates) -> Facts {
        var facts: Facts = []
        for n in candidates { facts.formUnion(index.ruleFacts[n]) }
        return facts
    }
}
