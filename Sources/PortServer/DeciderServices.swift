import FilterPort
import PortProtocol
import Synchronization

/// What each connected decider serves (its hello), by its port connection id,
/// for the agent's port's `serves`, which runs under the port's lock on every
/// send to the deciders' lane. Its own lock is a leaf: nothing else is taken
/// while it is held, and it refers to no connection, so the port that holds
/// it holds nothing else.
public final class DeciderServices: Sendable {
    private let hellos = Mutex<[UInt64: Hello]>([:])

    init() {}

    /// Records (or with nil forgets) the hello of port connection `id`.
    func set(_ id: UInt64, _ hello: Hello?) { hellos.withLock { $0[id] = hello } }

    /// Whether the port's client `connection` is a decider that serves `message`.
    public func serves(_ connection: ConnectionInfo, _ message: some WireCarrying) -> Bool {
        guard let event = message.wire?.event else { return false }
        return hellos.withLock { $0[connection.id]?.serves(event.access, rule: event.rule) ?? false }
    }
}
