import CFanotify
import Clocks
import Glibc
import Policy
import Synchronization
import SystemCall
import SystemPackage

/// The agent's view of the mounts: for a device number, the source
/// (`/dev/vda1`, `tmpfs`) and filesystem type of its mount; which mount ids
/// are trusted (the mounts of the agent's own mount namespace and of PID 1's:
/// only root can change those, so a path through them is the administrator's
/// path); and, for each filesystem, the agent's own mount of its root, through
/// which a file opened on any other mount is named. Read from
/// /proc/self/mountinfo and /proc/1/mountinfo again when `invalidate()` says
/// they changed, and when a device or mount id is not found (at most once a
/// second then).
package final class MountTable: Sendable {
    package struct Mount: Sendable, Equatable {
        package var source: [UInt8]
        package var fstype: [UInt8]
    }

    /// One line of mountinfo.
    struct Entry: Sendable, Equatable {
        var id: UInt64
        var device: UInt64
        /// The folder of the filesystem this mount shows ("/" for its root).
        var root: [UInt8]
        /// Where it is mounted.
        var point: [UInt8]
        var mount: Mount
    }

    /// An open folder at the root of a mount: the `mount_fd` of open_by_handle_at.
    package final class RootFolder: Sendable {
        package let fd: Int32
        /// The filesystem folder the mount shows ("/" when it is the filesystem's root).
        package let root: [UInt8]
        init(fd: Int32, root: [UInt8]) {
            self.fd = fd
            self.root = root
        }
        deinit { try? FileDescriptor(rawValue: fd).close() }
    }

    private struct State {
        var byDevice: [UInt64: Mount] = [:]
        var trusted: Set<UInt64> = []
        /// The agent's own mount of each filesystem's root (or of its widest folder).
        var ownByDevice: [UInt64: Entry] = [:]
        var roots: [UInt64: RootFolder] = [:]
        var readAt: Int64 = .min
        var stale = true
    }

    private let state = Mutex(State())

    package init() {}

    package func lookUp(device: UInt64) -> Mount? {
        state.withLock { s in
            refresh(&s, missing: s.byDevice[device] == nil)
            return s.byDevice[device]
        }
    }

    /// Whether a file opened through mount `id` is named by a path the
    /// opener cannot have chosen (a mount of the agent's or PID 1's namespace).
    package func isTrusted(mountID id: UInt64) -> Bool {
        state.withLock { s in
            if !s.stale, s.trusted.contains(id) { return true }
            refresh(&s, missing: true)
            return s.trusted.contains(id)
        }
    }

    /// The agent's own mount of the filesystem `device`, open, or nil when
    /// the agent's namespace does not mount it.
    package func rootFolder(device: UInt64) -> RootFolder? {
        state.withLock { s -> RootFolder? in
            refresh(&s, missing: s.ownByDevice[device] == nil)
            if let open = s.roots[device] { return open }
            guard let entry = s.ownByDevice[device] else { return nil }
            let point = withCPath(entry.point) { FilePath(platformString: $0) }
            guard let opened = try? FileDescriptor.open(point, .readOnly, options: [.directory, .nonBlocking, .closeOnExec]) else { return nil }
            var st = stat()
            var id: UInt64 = 0
            // Another mount on top of the mount point would name files by its own paths.
            guard cfan_fstat_mount(opened.rawValue, &st, &id) == 0, id == entry.id else {
                try? opened.close()
                return nil
            }
            let fd = opened.rawValue
            let folder = RootFolder(fd: fd, root: entry.root)
            s.roots[device] = folder
            return folder
        }
    }

    /// Where each filesystem of one of `types` is mounted in the agent's own
    /// namespace (one mount point each, its widest), by device.
    package func mountPoints(ofTypes types: [[UInt8]]) -> [(point: [UInt8], device: UInt64)] {
        guard !types.isEmpty else { return [] }
        return state.withLock { s in
            refresh(&s, missing: false)
            // Not in the kernel's own trees, which the agent reads to decide.
            let kernelTree = { (p: [UInt8]) in ["/proc", "/sys"].contains { p == Array($0.utf8) || p.starts(with: Array(($0 + "/").utf8)) } }
            return s.ownByDevice.values.filter { types.contains($0.mount.fstype) && !kernelTree($0.point) }
                .sorted { $0.point.lexicographicallyPrecedes($1.point) }
                .map { ($0.point, $0.device) }
        }
    }

    /// The mount tables changed: read them again at the next look-up.
    package func invalidate() { state.withLock { $0.stale = true } }

    private func refresh(_ s: inout State, missing: Bool) {
        guard s.stale || missing else { return }
        let now = SystemClock().seconds()
        guard s.stale || now != s.readAt else { return }
        s.stale = false
        s.readAt = now
        let own = Self.parse(WholeFile.read("/proc/self/mountinfo") ?? [])
        var all = own
        if !sameMountNamespace("/proc/self/ns/mnt", "/proc/1/ns/mnt") {
            all += Self.parse(WholeFile.read("/proc/1/mountinfo") ?? [])
        }
        s.byDevice = [:]
        for e in all where s.byDevice[e.device] == nil { s.byDevice[e.device] = e.mount }
        s.trusted = Set(all.map(\.id))
        var ownByDevice: [UInt64: Entry] = [:]
        for e in own where ownByDevice[e.device].map({ e.root.count < $0.root.count }) ?? true {
            ownByDevice[e.device] = e
        }
        // An open root folder stays while its mount does.
        s.roots = s.roots.filter { ownByDevice[$0.key]?.id == s.ownByDevice[$0.key]?.id }
        s.ownByDevice = ownByDevice
    }

    /// Parses mountinfo: `ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER`.
    static func parse(_ text: [UInt8]) -> [Entry] {
        var entries: [Entry] = []
        for line in text.split(separator: 10) {
            let fields = line.split(separator: 32)
            guard fields.count >= 10, let dash = fields.firstIndex(where: { $0.elementsEqual([UInt8(ascii: "-")]) }),
                  dash + 2 < fields.count, let id = UInt64(String(decoding: fields[0], as: UTF8.self)) else { continue }
            let numbers = fields[2].split(separator: UInt8(ascii: ":"))
            guard numbers.count == 2, let major = UInt64(String(decoding: numbers[0], as: UTF8.self)),
                  let minor = UInt64(String(decoding: numbers[1], as: UTF8.self)) else { continue }
            entries.append(Entry(id: id, device: makeDevice(major: major, minor: minor),
                                 root: unescapeOctal(fields[3]), point: unescapeOctal(fields[4]),
                                 mount: Mount(source: unescapeOctal(fields[dash + 2]), fstype: Array(fields[dash + 1]))))
        }
        return entries
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
