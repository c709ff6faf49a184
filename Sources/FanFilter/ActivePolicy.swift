import FilterPort
import Glibc
import Policy

/// A policy in force, shared by reference by every message read under it
/// (one retain per event, not a copy of the policy), with the decision cache
/// that belongs to it: a reload starts with an empty one.
final class ActivePolicy: Sendable {
    let policy: Policy
    /// nil with `cache = off`.
    let decisions: DecisionCache?
    /// A rule tests `sha256hash`: a decision may wait for a file to be hashed.
    let hashes: Bool
    /// Events each rule decided under this policy.
    let ruleHits: RuleHits
    /// The SHA-256 of the policy file as it was put in force (nil: not a file, or unreadable).
    let digest: String?

    init(_ policy: Policy, counters: Counters? = nil, digest: String? = nil) {
        self.policy = policy
        self.digest = digest
        hashes = policy.rules.contains { $0.object.contains { $0.attribute == .sha256hash } }
        ruleHits = RuleHits(rules: policy.rules.count)
        decisions = policy.agent.cache == .off ? nil
            : DecisionCache(capacity: policy.agent.cacheSize, counters: counters)
    }
}
