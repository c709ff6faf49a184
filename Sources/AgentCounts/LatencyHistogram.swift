import Synchronization

/// A histogram of durations that any thread records into with two atomic
/// adds (no lock, no allocation, no system call): buckets whose upper bounds
/// double from 1,024 ns (about 1 µs) to 2^30 ns (about 1.07 s), one more for
/// anything longer, each with its count and the sum of its durations. The
/// metrics file reads it.
public final class LatencyHistogram: Sendable {
    /// The buckets' upper bounds, in nanoseconds (the last bucket, past them, has none).
    public static let bounds: [UInt64] = (10...30).map { UInt64(1) << $0 }
    private static let buckets = bounds.count + 1

    /// Each bucket's count, then each bucket's sum in nanoseconds.
    private nonisolated(unsafe) let storage: UnsafeMutablePointer<Atomic<UInt64>>

    public init() {
        storage = .allocate(capacity: 2 * Self.buckets)
        for i in 0..<2 * Self.buckets { (storage + i).initialize(to: Atomic(0)) }
    }

    deinit {
        storage.deinitialize(count: 2 * Self.buckets)
        storage.deallocate()
    }

    /// Records one duration.
    public func record(nanoseconds: UInt64) {
        // The first bound at or above the value: bucket i holds (2^(9+i), 2^(10+i)].
        let bits = nanoseconds <= 1 ? 0 : 64 - (nanoseconds - 1).leadingZeroBitCount
        let index = min(max(bits - 10, 0), Self.bounds.count)
        storage[index].wrappingAdd(1, ordering: .relaxed)
        storage[Self.buckets + index].wrappingAdd(nanoseconds, ordering: .relaxed)
    }

    /// Records the time from `start` to `end` (CLOCK_MONOTONIC ns), nothing if `end` is earlier.
    public func record(from start: UInt64, to end: UInt64) {
        if end >= start { record(nanoseconds: end - start) }
    }

    /// Each bucket's count (its own, not cumulative; the last is past every
    /// bound) and the sum of its durations in nanoseconds. A recording that
    /// runs meanwhile may be in one and not yet in the other.
    public var snapshot: [(count: UInt64, sumNanoseconds: UInt64)] {
        (0..<Self.buckets).map { (storage[$0].load(ordering: .relaxed), storage[Self.buckets + $0].load(ordering: .relaxed)) }
    }
}
