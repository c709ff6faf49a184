import CFanotify
import Glibc
import Policy

/// Facts read from /proc about the process behind an event, and the path of
/// the event's file. Files are reached only through /proc and the event fd,
/// never by opening the object's path (which would raise an event of its own).
enum ProcFacts {
    /// The object's path, through the event fd. nil when the kernel cannot
    /// give one (longer than PATH_MAX, or an anonymous file). A deleted file
    /// keeps its last path, without the " (deleted)" that /proc adds.
    static func path(of eventFD: Int32) -> [UInt8]? {
        guard var path = readLink("/proc/self/fd/\(eventFD)") else { return nil }
        let deleted = Array(" (deleted)".utf8)
        if path.count > deleted.count, path.suffix(deleted.count).elementsEqual(deleted) {
            var st = stat()
            if fstat(eventFD, &st) == 0, st.st_nlink == 0 { path.removeLast(deleted.count) }
        }
        return path.first == UInt8(ascii: "/") ? path : nil
    }

    /// The subject's uid, gid (effective), comm and exe, and of ppid, auid and
    /// sessionid those in `needs`. When the kernel gave a pidfd, the facts are
    /// kept only if the process is still alive after they were read, so they
    /// cannot belong to a later process that reused the pid.
    static func subject(pid: Int32, pidfd: Int32, needs: Set<Fact> = []) -> SubjectFacts {
        var facts = SubjectFacts(pid: pid)
        if let status = readSmallFile("/proc/\(pid)/status") {
            facts.uid = statusField(status, "Uid:", index: 1)
            facts.gid = statusField(status, "Gid:", index: 1)
            facts.comm = statusName(status)
            if needs.contains(.ppid) { facts.ppid = statusField(status, "PPid:", index: 0).map { Int32(bitPattern: $0) } }
        }
        if needs.contains(.auid) { facts.auid = readNumber("/proc/\(pid)/loginuid") }
        if needs.contains(.sessionid) { facts.sessionid = readNumber("/proc/\(pid)/sessionid") }
        facts.exe = readLink("/proc/\(pid)/exe")
        if pidfd >= 0, cfan_pidfd_alive(pidfd) != 0 { return SubjectFacts(pid: pid) }
        return facts
    }

    /// Field `index` of a /proc/PID/status line: 1 is the effective id of `Uid:` and `Gid:`.
    static func statusField(_ status: [UInt8], _ key: String, index: Int) -> UInt32? {
        let key = Array(key.utf8)
        for line in status.split(separator: 10) where line.starts(with: key) {
            let fields = line.dropFirst(key.count).split(whereSeparator: { $0 == 9 || $0 == 32 })
            guard fields.count > index else { return nil }
            return UInt32(String(decoding: fields[index], as: UTF8.self))
        }
        return nil
    }

    /// The comm from the `Name:` line of /proc/PID/status (one read fewer than
    /// /proc/PID/comm), with the kernel's escapes (\n \t \\ and the like) undone.
    static func statusName(_ status: [UInt8]) -> [UInt8]? {
        let key = Array("Name:\t".utf8)
        guard let line = status.split(separator: 10).first(where: { $0.starts(with: key) }) else { return nil }
        var name: [UInt8] = []
        var escaped = false
        for c in line.dropFirst(key.count) {
            if escaped {
                switch c {
                case UInt8(ascii: "n"): name.append(10)
                case UInt8(ascii: "t"): name.append(9)
                case UInt8(ascii: "r"): name.append(13)
                case UInt8(ascii: "f"): name.append(12)
                case UInt8(ascii: "v"): name.append(11)
                case UInt8(ascii: "a"): name.append(7)
                case UInt8(ascii: "e"): name.append(27)
                default: name.append(c)
                }
                escaped = false
            } else if c == UInt8(ascii: "\\") {
                escaped = true
            } else {
                name.append(c)
            }
        }
        return name
    }

    static func readNumber(_ path: String) -> UInt32? {
        guard let bytes = readSmallFile(path) else { return nil }
        return UInt32(String(decoding: bytes.prefix { $0 >= 48 && $0 <= 57 }, as: UTF8.self))
    }

    /// The object's facts: its path always; size, device and fstype when `needs` has them.
    static func object(eventFD: Int32, needs: Set<Fact>, mounts: MountTable) -> ObjectFacts {
        var facts = ObjectFacts(path: path(of: eventFD))
        guard !needs.isDisjoint(with: [.size, .device, .fstype, .sha256]) else { return facts }
        var st = stat()
        guard fstat(eventFD, &st) == 0 else { return facts }
        facts.size = UInt64(st.st_size)
        if needs.contains(.device) || needs.contains(.fstype), let mount = mounts.lookUp(device: UInt64(st.st_dev)) {
            facts.device = mount.source
            facts.fstype = mount.fstype
        }
        return facts
    }

    static func readLink(_ path: String) -> [UInt8]? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(PATH_MAX) + 1) { buffer -> [UInt8]? in
            let n = buffer.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count) }
            guard n > 0, n < buffer.count else { return nil }
            return Array(buffer[..<n])
        }
    }

    static func readSmallFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer -> [UInt8]? in
            var n: Int
            repeat { n = read(fd, buffer.baseAddress, buffer.count) } while n < 0 && errno == EINTR
            return n > 0 ? Array(buffer[..<n]) : nil
        }
    }
}

/// The facts of a file named by path, as the agent would see them through an
/// event fd (for `fanfilter explain`; the agent itself never opens by path).
/// A file that cannot be opened has its path alone.
public func objectFacts(path: [UInt8], hashMaxSize: UInt64) -> ObjectFacts {
    let fd = (path + [0]).withUnsafeBufferPointer { p in
        p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
    }
    guard fd >= 0 else { return ObjectFacts(path: path) }
    defer { close(fd) }
    var facts = ProcFacts.object(eventFD: fd, needs: [.size, .device, .fstype], mounts: MountTable())
    facts.sha256 = ObjectHasher(capacity: 1).sha256(of: fd, maxSize: hashMaxSize)
    return facts
}
