import Glibc

/// CLOCK_MONOTONIC in nanoseconds: event latencies, deadlines of waits, the
/// mount table's once-a-second rereads.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// The same in whole seconds.
func monotonicSeconds() -> Int64 { Int64(monotonicNanoseconds() / 1_000_000_000) }
