import CFanotify
import Fanotify
import Glibc
import Policy
import SystemCall
import SystemPackage

/// Facts read from /proc about the process behind an event, and the path of
/// the event's file. Files are reached only through /proc and the event fd,
/// never by opening the object's path (which would raise an event of its own).
package enum ProcFacts {
    /// The object's path, through the event fd. nil when the kernel cannot
    /// give one (longer than PATH_MAX, or an anonymous file). A deleted file
    /// keeps its last path, without the " (deleted)" that /proc adds.
    static func path(of eventFD: Int32, stat st: stat? = nil) -> [UInt8]? {
        var fresh = stat()
        if let st { fresh = st } else if let now = try? FileDescriptor(rawValue: eventFD).stat().rawValue { fresh = now } else {
            fresh.st_nlink = 1  // no fstat: taken as a file not deleted
        }
        return withProcPath("/proc/self/fd/", eventFD, "") { linkPath($0, stat: fresh) }
    }

    /// The path a /proc magic link names (`/proc/self/fd/N`, `/proc/PID/exe`)
    /// for the file `st` describes: without the " (deleted)" /proc adds when
    /// the file has no name left, nil when it is not a path (longer than
    /// PATH_MAX, or an anonymous file).
    static func linkPath(_ link: UnsafePointer<CChar>, stat st: stat) -> [UInt8]? {
        guard var path = readLink(link) else { return nil }
        let deleted: StaticString = " (deleted)"
        let isDeleted = deleted.withUTF8Buffer { suffix in
            path.count > suffix.count && path.suffix(suffix.count).elementsEqual(suffix)
        }
        if isDeleted, st.st_nlink == 0 { path.removeLast(deleted.utf8CodeUnitCount) }
        return path.first == UInt8(ascii: "/") ? path : nil
    }

    /// The facts of `needs` about the process behind an event (its pid is
    /// always known). The credentials come last, from the pidfd (one ioctl on
    /// Linux 6.13 and later, /proc/PID/status before): that read fails once
    /// the process has exited, so the facts kept cannot belong to a later
    /// process that reused the pid. Without a pidfd they are kept as read.
    package static func subject(pid: Int32, pidfd: Int32, needs: Facts, mounts: MountTable, names: ProcessNames) -> SubjectFacts {
        var facts = SubjectFacts(pid: pid)
        if needs.contains(.exe) { facts.exe = ObjectPath.executable(of: pid, mounts: mounts) }
        if needs.contains(.comm), var comm = names.name(of: pid) {
            if comm.last == 10 { comm.removeLast() }
            facts.comm = comm
        }
        if needs.contains(.auid) { facts.auid = withProcPath("/proc/", pid, "/loginuid", readNumber) }
        if needs.contains(.sessionid) { facts.sessionid = withProcPath("/proc/", pid, "/sessionid", readNumber) }
        if pidfd >= 0 {
            var creds = cfan_pidfd_creds()
            switch cfan_pidfd_creds_of(pidfd, &creds) {
            case 0:
                facts.uid = creds.euid
                facts.gid = creds.egid
                if needs.contains(.uid) { facts.otherUIDs = others(creds.euid, [creds.ruid, creds.fsuid]) }
                if needs.contains(.gid) {
                    // The supplementary groups are in /proc/PID/status alone.
                    let groups = withProcPath("/proc/", pid, "/status", readSmallFile).map { statusList($0, "Groups:") } ?? []
                    facts.otherGIDs = others(creds.egid, [creds.rgid, creds.fsgid] + groups)
                }
                if needs.contains(.ppid) { facts.ppid = Int32(bitPattern: creds.ppid) }
                return facts
            case -ESRCH: return SubjectFacts(pid: pid)
            default: break  // a kernel before 6.13
            }
        }
        if !needs.isDisjoint(with: [.uid, .gid, .ppid]), let status = withProcPath("/proc/", pid, "/status", readSmallFile) {
            facts.uid = statusField(status, "Uid:", index: 1)
            facts.gid = statusField(status, "Gid:", index: 1)
            let uids = statusList(status, "Uid:"), gids = statusList(status, "Gid:")
            // Real, effective, saved and filesystem: the real and filesystem ones count.
            if let uid = facts.uid, uids.count == 4 { facts.otherUIDs = others(uid, [uids[0], uids[3]]) }
            if let gid = facts.gid, gids.count == 4 { facts.otherGIDs = others(gid, [gids[0], gids[3]] + statusList(status, "Groups:")) }
            if needs.contains(.ppid) { facts.ppid = statusField(status, "PPid:", index: 0).map { Int32(bitPattern: $0) } }
        }
        if pidfd >= 0, cfan_pidfd_alive(pidfd) != 0 { return SubjectFacts(pid: pid) }
        return facts
    }

    /// Calls `body` with a /proc link to the executable of process `pid` and
    /// that file's stat and mount id, read from the kernel's cache (no request
    /// to a FUSE server): /proc/PID/exe, or, when that fails because the main
    /// thread has exited while others run on (a process can hide its
    /// executable so), /proc/PID/task/TID/exe of the first live thread. nil
    /// when no thread's link can be read (the process has exited).
    package static func withExecutable<R>(of pid: Int32,
                                  _ body: (_ link: UnsafePointer<CChar>, _ stat: stat, _ mountID: UInt64) -> R) -> R? {
        var st = stat()
        var mountID: UInt64 = 0
        let main: R?? = withProcPath("/proc/", pid, "/exe") { link in
            cfan_stat_mount_cached(link, &st, &mountID) == 0 ? .some(body(link, st, mountID)) : .none
        }
        if let main { return main }
        var found: R?? = nil
        _ = withProcPath("/proc/", pid, "/task") { tasks in
            try? Directory.forEachEntry(in: tasks) { entry in
                guard let tid = Int32(String(decoding: entry.name, as: UTF8.self)), tid != pid else { return true }
                var link = Array("/proc/\(pid)/task/\(tid)/exe".utf8CString)
                found = link.withUnsafeMutableBufferPointer { buffer in
                    let path = UnsafePointer(buffer.baseAddress!)
                    return cfan_stat_mount_cached(path, &st, &mountID) == 0 ? .some(body(path, st, mountID)) : .none
                }
                return found == nil
            }
        }
        return found ?? nil
    }

    /// The process's real uid, who runs it whatever set-user-ID program it
    /// runs: from the pidfd (Linux 6.13 and later), else /proc/PID/status;
    /// nil once the process has exited, or when neither can be read.
    package static func realUID(pid: Int32, pidfd: Int32) -> UInt32? {
        if pidfd >= 0 {
            var creds = cfan_pidfd_creds()
            switch cfan_pidfd_creds_of(pidfd, &creds) {
            case 0: return creds.ruid
            case -ESRCH: return nil
            default: break  // a kernel before 6.13
            }
        }
        return withProcPath("/proc/", pid, "/status", readSmallFile).flatMap { statusField($0, "Uid:", index: 0) }
    }

    /// When the process started (clock ticks since boot: /proc/PID/stat's
    /// 22nd field, after the command name, which may hold any byte); nil
    /// once it has exited.
    static func startTime(pid: Int32) -> UInt64? {
        guard let stat = withProcPath("/proc/", pid, "/stat", readSmallFile),
              let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields from the 3rd (state) on: the 22nd is the 20th of these.
        let fields = stat[(close + 1)...].split(separator: 32)
        guard fields.count > 19 else { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }

    /// `ids` without `primary` and without repeats, in order.
    static func others(_ primary: UInt32, _ ids: [UInt32]) -> [UInt32] {
        var seen: [UInt32] = [primary]
        for id in ids where !seen.contains(id) { seen.append(id) }
        return Array(seen.dropFirst())
    }

    /// Every number of a /proc/PID/status line (`Groups:` may have none).
    static func statusList(_ status: [UInt8], _ key: String) -> [UInt32] {
        let key = Array(key.utf8)
        for line in status.split(separator: 10) where line.starts(with: key) {
            return line.dropFirst(key.count).split(whereSeparator: { $0 == 9 || $0 == 32 })
                .compactMap { UInt32(String(decoding: $0, as: UTF8.self)) }
        }
        return []
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

    static func readNumber(_ path: String) -> UInt32? { path.withCString(readNumber) }

    static func readNumber(_ path: UnsafePointer<CChar>) -> UInt32? {
        guard let bytes = readSmallFile(path) else { return nil }
        return UInt32(String(decoding: bytes.prefix { $0 >= 48 && $0 <= 57 }, as: UTF8.self))
    }

    /// Calls `body` with the C string `prefix` + `number` in decimal + `suffix`,
    /// built on the stack: a /proc path costs no allocation.
    static func withProcPath<R>(_ prefix: StaticString, _ number: Int32, _ suffix: StaticString,
                                _ body: (UnsafePointer<CChar>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            var end = 0
            func put(_ byte: UInt8) {
                buffer[end] = CChar(bitPattern: byte)
                end += 1
            }
            prefix.withUTF8Buffer { $0.forEach(put) }
            var digits: UInt64 = 1
            while digits * 10 <= UInt64(UInt32(bitPattern: number)) { digits *= 10 }
            var n = UInt64(UInt32(bitPattern: number))
            while digits > 0 {
                put(UInt8(ascii: "0") + UInt8(n / digits))
                n %= digits
                digits /= 10
            }
            suffix.withUTF8Buffer { $0.forEach(put) }
            put(0)
            return body(buffer.baseAddress!)
        }
    }

    /// The object's facts: `path`, and from `st` (the event fd's fstat) its
    /// size, device and fstype when `needs` has them.
    package static func object(path: [UInt8]?, stat st: stat?, needs: Facts, mounts: MountTable) -> ObjectFacts {
        var facts = ObjectFacts(path: path)
        guard let st else { return facts }
        if needs.contains(.size) { facts.size = UInt64(st.st_size) }
        if !needs.isDisjoint(with: [.device, .fstype]), let mount = mounts.lookUp(device: UInt64(st.st_dev)) {
            facts.device = mount.source
            facts.fstype = mount.fstype
        }
        return facts
    }

    static func readLink(_ path: UnsafePointer<CChar>) -> [UInt8]? {
        // Most links fit a small buffer on the stack; one that fills it is read again into one of PATH_MAX.
        let short = readLink(path, capacity: 256)
        return short.filled ? readLink(path, capacity: Int(PATH_MAX) + 1).link : short.link
    }

    /// The link read into a buffer of `capacity` bytes; `filled` when it
    /// took the whole buffer (the link may be longer: nil then).
    private static func readLink(_ path: UnsafePointer<CChar>, capacity: Int) -> (link: [UInt8]?, filled: Bool) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer -> ([UInt8]?, Bool) in
            let n = buffer.withMemoryRebound(to: CChar.self) { link in
                (try? systemCall("readlink") { readlink(path, link.baseAddress!, link.count) }) ?? -1
            }
            guard n > 0, n < buffer.count else { return (nil, n == buffer.count) }
            return (Array(buffer[..<n]), false)
        }
    }

    static func readSmallFile(_ path: UnsafePointer<CChar>) -> [UInt8]? {
        guard let file = try? FileDescriptor.open(path, .readOnly, options: .closeOnExec) else { return nil }
        defer { try? file.close() }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer -> [UInt8]? in
            guard let n = try? file.read(into: UnsafeMutableRawBufferPointer(buffer)), n > 0 else { return nil }
            return Array(buffer[..<n])
        }
    }
}
