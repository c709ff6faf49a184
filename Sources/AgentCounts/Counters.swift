import Synchronization

/// One atomic per `Counter`, so any thread counts without a lock.
public final class Counters: Sendable {
    private nonisolated(unsafe) let storage: UnsafeMutablePointer<Atomic<UInt64>>
    private static let count = Counter.allCases.count

    public init() {
        storage = .allocate(capacity: Self.count)
        for i in 0..<Self.count { (storage + i).initialize(to: Atomic(0)) }
    }

    deinit {
        storage.deinitialize(count: Self.count)
        storage.deallocate()
    }

    /// Adds one; returns the new count.
    @discardableResult
    package func increment(_ c: Counter) -> UInt64 { storage[c.rawValue].wrappingAdd(1, ordering: .relaxed).newValue }

    public subscript(_ c: Counter) -> UInt64 { storage[c.rawValue].load(ordering: .relaxed) }

    /// `events=12 open=10 …`, every counter in a stable order.
    public var summary: String {
        Counter.allCases.map { "\($0.name)=\(self[$0])" }.joined(separator: " ")
    }
}
