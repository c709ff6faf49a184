import PortProtocol
import Synchronization

/// What each connected decider serves (its hello), by its port connection id,
/// for the port's `serves`, which runs under the port's lock on every send.
/// Its own lock is a leaf: nothing else is taken while it is held, and it
/// refers to no connection, so the port that holds it holds nothing else.
final class DeciderServices: Sendable {
    private let hellos = Mutex<[UInt64: Hello]>([:])

    /// Records (or with nil forgets) the hello of port connection `id`.
    func set(_ id: UInt64, _ hello: Hello?) { hellos.withLock { $0[id] = hello } }

    /// Whether port connection `id` is a decider that serves `event`.
    func serves(_ id: UInt64, _ event: EventRecord) -> Bool {
        hellos.withLock { $0[id]?.serves(event.access, rule: event.rule) ?? false }
    }
}
