import CSystemd
import Glibc
import SystemPackage

/// Writes entries to the systemd journal with sd_journal_sendv: one entry
/// per call, every field as bytes (libsystemd sends a value holding a newline
/// in the journal's binary form, so nothing is split or mangled).
public struct JournalSink: LogSink {
    public init() {}

    public func write(_ entry: LogEntry) {
        var items: [[UInt8]] = [
            Array("MESSAGE=".utf8) + Array(entry.message.utf8),
            Array("PRIORITY=\(entry.priority)".utf8),
            Array("SYSLOG_IDENTIFIER=fanfilter".utf8),
        ]
        for (name, value) in entry.fields { items.append(Array(name.utf8) + [UInt8(ascii: "=")] + value) }
        var buffer: [UInt8] = []
        var spans: [(offset: Int, count: Int)] = []
        for item in items {
            spans.append((buffer.count, item.count))
            buffer += item
        }
        buffer.withUnsafeBytes { raw in
            let vectors = spans.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + $0.offset), iov_len: $0.count) }
            _ = vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }

    /// Whether standard error is connected to the journal (systemd sets
    /// JOURNAL_STREAM to its device and inode).
    public static var stderrIsJournal: Bool {
        guard let value = getenv("JOURNAL_STREAM") else { return false }
        let parts = String(cString: value).split(separator: ":")
        guard parts.count == 2, let st = try? FileDescriptor.standardError.stat() else { return false }
        return UInt64(parts[0]) == UInt64(st.deviceID.rawValue) && UInt64(parts[1]) == UInt64(st.inode.rawValue)
    }
}
