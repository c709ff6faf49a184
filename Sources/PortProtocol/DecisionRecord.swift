/// What an observer learns of one answered event (`fanfilter monitor`).
public struct DecisionRecord: Sendable, Equatable {
    /// What answered the event.
    public enum Source: UInt32, Sendable {
        case rule = 0, timeout = 1, overload = 2, noClient = 3, client = 4, disconnect = 5, unknownPath = 6, noRule = 7
    }

    /// Increases by one for every decision the agent published, sent or lost.
    public var sequence: UInt64
    /// Decisions this observer lost (it fell behind) since the last one it got.
    public var lost: UInt32
    public var access: WireAccess
    public var pid: Int32
    /// The verdict the rule, setting or client gave.
    public var verdict: WireVerdict
    /// Whether the kernel was told allow for a deny (permissive or observe mode).
    public var notEnforced: Bool
    public var source: Source
    /// The rule (0: none).
    public var rule: UInt32
    public var path: [UInt8]
    /// The client that decided (`source == .client`), or whose reply with a
    /// non-zero status left the answer to `on_timeout`; else empty.
    public var client: [UInt8]

    public init(sequence: UInt64 = 0, lost: UInt32 = 0, access: WireAccess, pid: Int32, verdict: WireVerdict,
                notEnforced: Bool = false, source: Source, rule: UInt32 = 0, path: [UInt8] = [], client: [UInt8] = []) {
        self.sequence = sequence
        self.lost = lost
        self.access = access
        self.pid = pid
        self.verdict = verdict
        self.notEnforced = notEnforced
        self.source = source
        self.rule = rule
        self.path = path
        self.client = client
    }
}
