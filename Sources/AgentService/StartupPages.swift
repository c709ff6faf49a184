import Fanotify
import Glibc
import SystemCall

/// The code pages only the daemon's start (or a reload) needed — the policy
/// parser, the set-up of marks and the socket, the Swift runtime's start-up —
/// are unmapped from the daemon once it runs; those the event path uses are
/// mapped again at their first use.
///
/// Guarantee: nothing changes but which pages the daemon maps. Only clean
/// private file mappings are touched (read-only, no page of them copied on
/// write: code and constant data of the executable and its libraries), and
/// MADV_DONTNEED on those drops the mapping, not the page: the page cache
/// keeps each page, so a later use maps it again without a disk read, and a
/// cgroup's memory charge is the same before and after.
enum StartupPages {
    /// Unmaps the pages of every clean read-only private file mapping.
    static func release() {
        guard let smaps = WholeFile.read("/proc/self/smaps") else { return }
        for range in cleanMappings(in: smaps) {
            _ = try? systemCall("madvise MADV_DONTNEED") {
                madvise(UnsafeMutableRawPointer(bitPattern: range.lowerBound), Int(range.upperBound - range.lowerBound), MADV_DONTNEED)
            }
        }
    }

    /// The address ranges in `smaps` (/proc/PID/smaps's text) of the mappings
    /// that are readable, not writable, private, backed by a file, and have
    /// no page copied on write (relocated data made read-only holds what the file does not).
    static func cleanMappings(in smaps: [UInt8]) -> [Range<UInt>] {
        var clean: [Range<UInt>] = []
        var candidate: Range<UInt>?
        for line in smaps.split(separator: UInt8(ascii: "\n")) {
            if let mapping = Mapping(header: line) {
                candidate = mapping.isCleanCandidate ? mapping.range : nil
            } else if let range = candidate, line.starts(with: Array("Anonymous:".utf8)) {
                if kilobytes(line) == 0 { clean.append(range) }
                candidate = nil
            }
        }
        return clean
    }

    /// One mapping's header line in /proc/self/smaps: its addresses, permissions and file.
    private struct Mapping {
        let range: Range<UInt>
        let permissions: [UInt8]
        let inode: [UInt8]
        let path: [UInt8]

        init?(header line: ArraySlice<UInt8>) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5, fields[1].count == 4, let range = Self.addressRange(fields[0]) else { return nil }
            self.range = range
            permissions = Array(fields[1])
            inode = Array(fields[4])
            path = fields.count == 6 ? Array(fields[5].drop { $0 == UInt8(ascii: " ") }) : []
        }

        /// Readable, not writable, private, and backed by a file (not the heap, a stack or the vDSO).
        var isCleanCandidate: Bool {
            permissions[0] == UInt8(ascii: "r") && permissions[1] == UInt8(ascii: "-") && permissions[3] == UInt8(ascii: "p")
                && inode != [UInt8(ascii: "0")] && path.first == UInt8(ascii: "/")
        }

        /// `7f0000000000-7f0000004000` as a range of addresses.
        private static func addressRange(_ field: ArraySlice<UInt8>) -> Range<UInt>? {
            let parts = field.split(separator: UInt8(ascii: "-"))
            guard parts.count == 2, let low = UInt(String(decoding: parts[0], as: UTF8.self), radix: 16),
                  let high = UInt(String(decoding: parts[1], as: UTF8.self), radix: 16), low < high else { return nil }
            return low..<high
        }
    }

    /// The number in `Anonymous:     12 kB`.
    private static func kilobytes(_ line: ArraySlice<UInt8>) -> Int? {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        return fields.count >= 2 ? Int(String(decoding: fields[1], as: UTF8.self)) : nil
    }
}
