import CSystemd
import Glibc

/// Writes readable lines to standard error: `2026-11-25T18:00:00Z warning fanfilter: deny open …`.
public struct StderrSink: LogSink {
    public init() {}

    static let levels = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"]

    public func write(_ entry: LogEntry) {
        var now = time(nil)
        var tm = tm()
        gmtime_r(&now, &tm)
        var stamp = [CChar](repeating: 0, count: 32)
        strftime(&stamp, stamp.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
        let level = Self.levels[Int(max(0, min(7, entry.priority)))]
        var line = "\(String(cString: stamp)) \(level) \(entry.label): \(entry.message)\n"
        line.withUTF8 { p in
            var off = 0
            while off < p.count {
                let n = Glibc.write(2, p.baseAddress! + off, p.count - off)
                if n <= 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }
}
