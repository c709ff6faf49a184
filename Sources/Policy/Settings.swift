/// The rule language's own settings: what a decision is when no rule
/// matches, when a rule asks and no client answers, when a fact cannot be
/// learned. (The agent's settings are `AgentSettings`.)
public struct Settings: Sendable, Equatable {
    /// The answer to an open whose path the agent cannot learn (longer than
    /// PATH_MAX, or on a mount it cannot resolve) while a rule for opens tests the path.
    public var onUnknownPath: Verdict = .allow
    /// The same for an execution: deny, so an unreadable path never skips a `dir=` deny.
    public var onUnknownPathExecute: Verdict = .deny
    /// The verdict when no rule matches.
    public var defaultVerdict: Verdict = .allow
    /// The answer to `ask` while no external client is connected.
    public var onNoClient: Verdict = .allow
    /// The answer to `ask` when the client that had the event disconnected before answering.
    public var onDisconnect: Verdict = .allow
    /// Files larger than this are not hashed: sha256hash does not match them.
    public var hashMaxSize: UInt64 = 64 << 20
    /// What `trust=1` checks besides the path (fapolicyd's `integrity`).
    public var integrity: Integrity = .none
    /// The trust database `fanfilter trust update` builds.
    public var trustDatabase: [UInt8] = Array("/var/lib/fanfilter/trust.mdb".utf8)

    public init() {}

    public func onUnknownPath(_ access: Access) -> Verdict { access == .execute ? onUnknownPathExecute : onUnknownPath }
}
