import Glibc

/// Waits (bounded) until `condition` holds, asking it again `every` so often;
/// false if it still does not at the deadline.
public func eventually(timeout: Duration = .seconds(10), every: Duration = .milliseconds(1), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout.scaledForTests
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        let (seconds, attoseconds) = every.components
        usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }
    return true
}
