import Glibc

/// How much longer than here every bounded wait of the tests may be:
/// FANFILTER_TEST_TIME_SCALE, set by make test for its qemu guests, which
/// run under software emulation several times slower. It stretches the
/// bounds that tell a hang from slowness (a child's exit, a line of output,
/// a condition), never what a test asserts of the agent's own timing.
public let testTimeScale: Int = {
    guard let raw = getenv("FANFILTER_TEST_TIME_SCALE"), let n = Int(String(cString: raw)), n >= 1 else { return 1 }
    return n
}()

extension Duration {
    /// This bound, stretched by `testTimeScale`.
    public var scaledForTests: Duration { self * testTimeScale }
}
