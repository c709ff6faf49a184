import DequeModule
import Dispatch
import Glibc
import Synchronization

/// One second's count of entries, and the similar entries suppressed in it.
struct Coalescer {
    var second: Int64 = 0
    var count = 0
    var suppressed: [[UInt8]: (first: LogEntry, count: Int)] = [:]
    /// Keys kept for one second at the most; beyond, entries are still suppressed but counted together.
    static let maximumKeys = 1024

    /// Whether to write `entry` now.
    mutating func admit(_ entry: LogEntry, rate: Int) -> Bool {
        count += 1
        guard count > rate, let key = entry.coalescingKey else { return true }
        let k = suppressed.count < Self.maximumKeys || suppressed[key] != nil ? key : []
        suppressed[k, default: (entry, 0)].count += 1
        return false
    }

    /// Starts the second `now`; returns the summaries of the one that ended.
    mutating func roll(to now: Int64) -> [LogEntry] {
        guard now != second else { return [] }
        second = now
        count = 0
        defer { suppressed.removeAll(keepingCapacity: true) }
        return suppressed.values.map { first, n in
            var summary = first
            summary.message = "\(n) similar entr\(n == 1 ? "y" : "ies") suppressed (log_rate): \(first.message)"
            summary.fields.removeAll { $0.name == Field.messageID }
            summary.fields.append((Field.messageID, Array(MessageID.entriesSuppressed.rawValue.utf8)))
            summary.fields.append((Field.suppressed, Array(String(n).utf8)))
            return summary
        }
    }
}
