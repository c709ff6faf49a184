import CFanotify
import Fanotify
import Glibc
import SystemPackage

/// The path the agent decides on for a file it holds open, and the path the
/// file was opened as when that differs.
///
/// Guarantee: the path is one the opener cannot choose. A file opened through
/// a mount of the agent's or PID 1's mount namespace (only root changes those)
/// is named as the kernel names it; a file opened through any other mount (a
/// bind mount in a user's own namespace can put any folder anywhere) is named
/// by its place within its filesystem, as the agent's own mount of that
/// filesystem shows it (name_to_handle_at, then open_by_handle_at through that
/// mount). When that cannot be learned the path is nil: unknown, which the
/// policy's `on_unknown_path` settings answer.
package struct ObjectPath {
    /// The path decided on; nil when unknown.
    package var path: [UInt8]?
    /// The path the opener used, when it is not `path` (logged beside it).
    package var openedAs: [UInt8]?

    package init(path: [UInt8]? = nil, openedAs: [UInt8]? = nil) {
        self.path = path
        self.openedAs = openedAs
    }

    /// The path of `fd`, with its statx read here (for entries logged off the decision path).
    package init(_ fd: Int32, mounts: MountTable) {
        var st = stat()
        var mountID: UInt64 = 0
        self = cfan_fstat_mount(fd, &st, &mountID) == 0 ? Self.of(fd, mountID: mountID, stat: st, mounts: mounts) : ObjectPath()
    }

    /// `mountID` and `st` are the fd's statx (`cfan_fstat_mount`); a mount id
    /// of 0 (a kernel before 5.8, which cannot tell) is taken as trusted.
    package static func of(_ fd: Int32, mountID: UInt64, stat st: stat, mounts: MountTable) -> ObjectPath {
        let named = ProcFacts.path(of: fd, stat: st)
        if mountID == 0 || mounts.isTrusted(mountID: mountID) { return ObjectPath(path: named) }
        guard let folder = mounts.rootFolder(device: UInt64(st.st_dev)) else { return ObjectPath(path: nil, openedAs: named) }
        let reopened = cfan_reopen_through_mount(fd, folder.fd)
        guard reopened >= 0 else { return ObjectPath(path: nil, openedAs: named) }
        defer { try? FileDescriptor(rawValue: reopened).close() }
        let own = ProcFacts.path(of: reopened, stat: st)
        return ObjectPath(path: own, openedAs: own == named ? nil : named)
    }

    /// The executable of process `pid`, named the same way (a user's own
    /// mount namespace could otherwise show any binary as /usr/bin/rsync).
    /// Run from a trusted mount (the usual case) it costs a statx and a
    /// readlink of /proc/PID/exe; otherwise the file is reopened through the
    /// agent's own mount.
    static func executable(of pid: Int32, mounts: MountTable) -> [UInt8]? {
        // From the kernel's cache: a user's FUSE daemon could stall a stat of its own binary for ever.
        let named = ProcFacts.withExecutable(of: pid) { link, st, mountID -> [UInt8]? in
            if mountID == 0 || mounts.isTrusted(mountID: mountID) { return ProcFacts.linkPath(link, stat: st) }
            let fd = cfan_open_path(link)
            guard fd >= 0 else { return nil }
            defer { try? FileDescriptor(rawValue: fd).close() }
            var st = stat()
            var mountID: UInt64 = 0
            guard cfan_fstat_mount_cached(fd, &st, &mountID) == 0 else { return nil }
            return of(fd, mountID: mountID, stat: st, mounts: mounts).path
        }
        return named ?? nil
    }
}
