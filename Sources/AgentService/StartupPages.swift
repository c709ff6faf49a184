import FanFilter
import Glibc

/// The pages of the daemon's own executable that only its start needed
/// (the policy parser, the set-up of marks and the socket, most of the Swift
/// runtime's start-up) are given back to the kernel once it runs; those the
/// event path uses come back at their first use.
///
/// Guarantee: nothing changes but residency: the pages are clean file pages
/// of the executable (read-only mappings), which the kernel maps again on
/// their next use, as it would after reclaiming them under memory pressure.
enum StartupPages {
    /// Asks the kernel to reclaim the pages of the executable's read-only
    /// mappings now (MADV_PAGEOUT, Linux 5.4 and later; refused before, which
    /// changes nothing).
    static func release() {
        var exe = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let linkLength = readlink("/proc/self/exe", &exe, exe.count - 1)
        guard linkLength > 0, let maps = readWholeFile("/proc/self/maps") else { return }
        let ownPath = Array(exe[..<linkLength].map { UInt8(bitPattern: $0) })
        for line in maps.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1].first == UInt8(ascii: "r"), fields[1].dropFirst().first != UInt8(ascii: "w"),
                  Array(fields[5].drop { $0 == UInt8(ascii: " ") }) == ownPath,
                  let range = addressRange(fields[0]) else { continue }
            let start = UnsafeMutableRawPointer(bitPattern: range.lowerBound)
            _ = madvise(start, Int(range.upperBound - range.lowerBound), 21)  // MADV_PAGEOUT
        }
    }

    /// `7f0000000000-7f0000004000` as a range of addresses.
    private static func addressRange(_ field: ArraySlice<UInt8>) -> Range<UInt>? {
        let parts = field.split(separator: UInt8(ascii: "-"))
        guard parts.count == 2, let low = UInt(String(decoding: parts[0], as: UTF8.self), radix: 16),
              let high = UInt(String(decoding: parts[1], as: UTF8.self), radix: 16), low < high else { return nil }
        return low..<high
    }
}
