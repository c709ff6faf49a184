import Policy
import Synchronization

/// The mode `fanfilter set-mode` put in force: every reload applies it over
/// the policy file's own, until the agent restarts.
final class ModeOverride: Sendable {
    private let mode = Mutex<Mode?>(nil)

    /// Sets the override (nil: none); returns the one before.
    func set(_ new: Mode?) -> Mode? {
        mode.withLock { m in
            defer { m = new }
            return m
        }
    }

    func apply(to policy: Policy) -> Policy {
        guard let m = mode.withLock({ $0 }) else { return policy }
        var agent = policy.agent
        agent.mode = m
        return Policy(agent: agent, settings: policy.settings, rules: policy.rules, source: policy.source, warnings: policy.warnings)
    }
}
