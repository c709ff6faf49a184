import Glibc
import Synchronization

/// The agent's view of /proc/self/mountinfo: for a device number, the source
/// (`/dev/vda1`, `tmpfs`) and filesystem type of its mount. Read again when a
/// device is not found, at most once a second.
final class MountTable: Sendable {
    struct Mount: Sendable, Equatable {
        var source: [UInt8]
        var fstype: [UInt8]
    }

    private struct State {
        var byDevice: [UInt64: Mount] = [:]
        var readAt: Int64 = .min
    }

    private let state = Mutex(State())

    func lookUp(device: UInt64) -> Mount? {
        state.withLock { s in
            if let m = s.byDevice[device] { return m }
            let now = monotonicSeconds()
            guard now != s.readAt else { return nil }
            s.readAt = now
            s.byDevice = Self.read()
            return s.byDevice[device]
        }
    }

    /// Parses mountinfo: `ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER`.
    static func parse(_ text: [UInt8]) -> [UInt64: Mount] {
        var table: [UInt64: Mount] = [:]
        for line in text.split(separator: 10) {
            let fields = line.split(separator: 32)
            guard fields.count >= 10, let dash = fields.firstIndex(where: { $0.elementsEqual([UInt8(ascii: "-")]) }),
                  dash + 2 < fields.count else { continue }
            let numbers = fields[2].split(separator: UInt8(ascii: ":"))
            guard numbers.count == 2, let major = UInt64(String(decoding: numbers[0], as: UTF8.self)),
                  let minor = UInt64(String(decoding: numbers[1], as: UTF8.self)) else { continue }
            let device = makeDevice(major: major, minor: minor)
            if table[device] == nil {
                table[device] = Mount(source: unescapeOctal(fields[dash + 2]), fstype: Array(fields[dash + 1]))
            }
        }
        return table
    }

    private static func read() -> [UInt64: Mount] {
        let fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while case let n = chunk.withUnsafeMutableBytes({ Glibc.read(fd, $0.baseAddress, $0.count) }), n > 0 {
            bytes += chunk[..<n]
        }
        return parse(bytes)
    }
}

/// glibc's makedev(3).
func makeDevice(major: UInt64, minor: UInt64) -> UInt64 {
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
}

/// mountinfo writes space, tab, newline and backslash as \040, \011, \012, \134.
func unescapeOctal(_ field: ArraySlice<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    var i = field.startIndex
    while i < field.endIndex {
        if field[i] == UInt8(ascii: "\\"), i + 3 < field.endIndex,
           let n = UInt8(String(decoding: field[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
            out.append(n)
            i += 4
        } else {
            out.append(field[i])
            i += 1
        }
    }
    return out
}

func monotonicSeconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec)
}
