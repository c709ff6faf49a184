/// Where an event's time goes, for the metrics: each a `LatencyHistogram`
/// recorded on the event path with atomic adds only.
public struct Latencies: Sendable {
    /// From the event read to the kernel's answer, whatever answered it.
    public let decision = LatencyHistogram()
    /// From the event read to a decision thread taking its message (the reader's own included).
    public let workerWait = LatencyHistogram()
    /// The policy's evaluation of a request (rules alone, no facts read).
    public let evaluation = LatencyHistogram()
    /// From an `ask` event sent to the socket port's deciders to their answer (or what answered instead).
    public let client = LatencyHistogram()

    public init() {}
}
