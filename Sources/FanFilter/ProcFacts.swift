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

    /// The subject's uid, gid (effective), comm and exe. When the kernel gave a
    /// pidfd, the facts are kept only if the process is still alive after they
    /// were read, so they cannot belong to a later process that reused the pid.
    static func subject(pid: Int32, pidfd: Int32) -> SubjectFacts {
        var facts = SubjectFacts(pid: pid)
        if let status = readSmallFile("/proc/\(pid)/status") {
            facts.uid = statusField(status, "Uid:")
            facts.gid = statusField(status, "Gid:")
        }
        if var comm = readSmallFile("/proc/\(pid)/comm") {
            if comm.last == 10 { comm.removeLast() }
            facts.comm = comm
        }
        facts.exe = readLink("/proc/\(pid)/exe")
        if pidfd >= 0, cfan_pidfd_alive(pidfd) != 0 { return SubjectFacts(pid: pid) }
        return facts
    }

    /// The second (effective) id on a `Uid:` or `Gid:` line of /proc/PID/status.
    static func statusField(_ status: [UInt8], _ key: String) -> UInt32? {
        let key = Array(key.utf8)
        for line in status.split(separator: 10) where line.starts(with: key) {
            let ids = line.dropFirst(key.count).split(whereSeparator: { $0 == 9 || $0 == 32 })
            guard ids.count >= 2 else { return nil }
            return UInt32(String(decoding: ids[1], as: UTF8.self))
        }
        return nil
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
