import Synchronization

/// How many events each rule of one policy decided, counted where the
/// answer is settled: one relaxed atomic add per decided event, no lock. An
/// open the kernel answers from an ignore mark never reaches the agent and is
/// not counted again; a decision from the agent's own cache is.
public final class RuleHits: @unchecked Sendable {
    private let counts: UnsafeMutablePointer<Atomic<UInt64>>
    /// The policy's number of rules.
    public let count: Int

    init(rules: Int) {
        count = rules
        counts = .allocate(capacity: max(rules, 1))
        for i in 0..<rules { (counts + i).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: count)
        counts.deallocate()
    }

    /// Counts one event decided by rule `number` (1-based, as logs name it).
    package func hit(_ number: Int) {
        guard number >= 1, number <= count else { return }
        counts[number - 1].add(1, ordering: .relaxed)
    }

    /// Events rule `number` decided so far.
    public subscript(number: Int) -> UInt64 {
        guard number >= 1, number <= count else { return 0 }
        return counts[number - 1].load(ordering: .relaxed)
    }
}
