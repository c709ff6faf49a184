import Glibc
import SystemPackage

/// Writes readable lines to standard error: `2026-11-25T18:00:00Z warning fanfilter: deny open …`.
public struct StderrSink: LogSink {
    public init() {}

    static let levels = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"]

    public func write(_ entry: LogEntry) {
        var now = time(nil)
        var tm = tm()
        gmtime_r(&now, &tm)
        var stamp = [CChar](repeating: 0, count: 32)
        let length = strftime(&stamp, stamp.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
        let level = Self.levels[Int(max(0, min(7, entry.priority)))]
        let line = "\(String(decoding: stamp[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)) \(level) \(entry.label): \(entry.message)\n"
        // A closed or full reader loses the line; the agent goes on (SIGPIPE is ignored).
        _ = try? FileDescriptor.standardError.writeAll(line.utf8)
    }
}
