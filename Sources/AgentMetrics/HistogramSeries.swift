import AgentCounts
import typealias Prometheus.DurationHistogram
import struct Prometheus.MetricNameDescriptor
import class Prometheus.PrometheusCollectorRegistry
import Synchronization

/// One `LatencyHistogram` as a Prometheus histogram (swift-prometheus's own:
/// `_bucket{le}`, `_sum`, `_count`, seconds). The event path only adds to the
/// `LatencyHistogram`'s atomics; at each write this hands swift-prometheus
/// what each bucket gained since the last one, each duration as its bucket's
/// mean (which lies in the same bucket), so counts and sums are exact and
/// the event path never takes swift-prometheus's lock.
/// `histogram_quantile(0.99, rate(<name>_bucket[5m]))` reads it.
final class HistogramSeries: Sendable {
    private let source: LatencyHistogram
    private let histogram: DurationHistogram
    /// Each bucket's count and sum already handed over.
    private let added = Mutex<[(count: UInt64, sumNanoseconds: UInt64)]>([])

    /// `fanfilter_<name>_seconds`, with `help` as its HELP line.
    init(_ name: String, help: String, _ source: LatencyHistogram, registry: PrometheusCollectorRegistry) {
        self.source = source
        let descriptor = MetricNameDescriptor(namespace: "fanfilter", metricName: name, unitName: "seconds", helpText: help)
        histogram = registry.makeDurationHistogram(descriptor: descriptor, buckets: LatencyHistogram.bounds.map { .nanoseconds(Int64($0)) })
        added.withLock { $0 = Array(repeating: (0, 0), count: LatencyHistogram.bounds.count + 1) }
    }

    /// Hands over what the histogram gained since the last call.
    func update() {
        let now = source.snapshot
        added.withLock { added in
            for (i, bucket) in now.enumerated() where bucket.count > added[i].count && bucket.sumNanoseconds >= added[i].sumNanoseconds {
                let n = bucket.count - added[i].count
                let mean = (bucket.sumNanoseconds - added[i].sumNanoseconds) / n
                for _ in 0..<n { histogram.record(.nanoseconds(Int64(clamping: mean))) }
                added[i] = bucket
            }
        }
    }
}
