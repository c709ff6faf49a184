import DequeModule
import Dispatch
import Synchronization

/// Lets the timer reach the port without keeping it alive.
final class WeakPortBox: @unchecked Sendable {
    // Written once in FilterPort.init before any message can be scheduled.
    private(set) var expire: (@Sendable (UInt64) -> Void)?
    func set(_ f: @escaping @Sendable (UInt64) -> Void) { expire = f }
}
