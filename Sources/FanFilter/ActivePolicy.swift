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

    init(_ policy: Policy, counters: Counters? = nil) {
        self.policy = policy
        decisions = policy.agent.cache == .off ? nil
            : DecisionCache(capacity: policy.agent.cacheSize, counters: counters)
    }
}
