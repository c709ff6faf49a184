import DequeModule
import Dispatch
import Synchronization

/// What the filter's connect callback learns of a client.
public struct ConnectionInfo: Sendable, Equatable {
    /// Unique on its port for the port's lifetime.
    public var id: UInt64
    /// The bytes the client passed to `connect(context:)`.
    public var context: [UInt8]
}
