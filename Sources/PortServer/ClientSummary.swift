import PortProtocol

/// One connected client as `fanfilter clients` and `status` show it.
public struct ClientSummary: Sendable, Equatable {
    public var name: String
    public var role: Role
    public var pid: Int32
    public var uid: UInt32
    /// Messages delivered to it and not yet answered.
    public var inFlight: Int
    /// Gets it has primed and not yet used.
    public var primed: Int
    /// Decisions it made (deciders) or was sent (observers).
    public var handled: UInt64
}
