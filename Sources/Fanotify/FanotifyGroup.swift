import CFanotify
import Glibc
import Policy
import Synchronization
import SystemCall
import SystemPackage

/// One fanotify group: its fd, its marks, and the one way to answer a
/// permission event. A permission group (FAN_CLASS_CONTENT) holds openers
/// until answered; a notification group (FAN_CLASS_NOTIF, observe mode)
/// never does. Creating it probes the kernel's optional features and keeps
/// those it grants.
package final class FanotifyGroup: KernelGroup {
    let fd: FileDescriptor
    package let features: FanotifyFeatures
    /// Whether events wait for an answer (false: observe mode's notifications).
    package let permission: Bool
    private let closed = Atomic<Bool>(false)
    /// Threads inside a call that writes through `fd` (a response, a mark):
    /// `close()` waits for them, so none can write to a reused fd number.
    private let users = Atomic<Int>(0)
    /// Events read and not yet answered or closed.
    private let unanswered = Atomic<Int>(0)

    package var pollFD: Int32 { fd.rawValue }
    package var inFlight: Int { unanswered.load(ordering: .relaxed) }
    package func received() { unanswered.add(1, ordering: .relaxed) }
    package func answered() { unanswered.subtract(1, ordering: .relaxed) }
    /// Whether responses may carry the FAN_INFO audit-rule record (cleared by the first refusal).
    private let auditRuleRecords = Atomic<Bool>(true)

    init(permission: Bool = true) throws(SystemCallError) {
        self.permission = permission
        let base = UInt32((permission ? FAN_CLASS_CONTENT : FAN_CLASS_NOTIF) | FAN_CLOEXEC | FAN_NONBLOCK)
        // openExecPerm stays true here; the agent withdraws it if a mark finds the kernel without it.
        var features = FanotifyFeatures()
        var flags = base
        let withheld = WithheldFeatures.fromEnvironment
        var optional: [(UInt32, WritableKeyPath<FanotifyFeatures, Bool>, String)] = [
            (UInt32(FAN_REPORT_PIDFD), \.pidfd, "pidfd"),
            (UInt32(FAN_UNLIMITED_QUEUE), \.unlimitedQueue, "unlimited-queue"),
        ]
        if permission {
            optional.append((UInt32(FAN_ENABLE_AUDIT), \.audit, "audit"))
            optional.append((UInt32(FAN_REPORT_FD_ERROR), \.fdError, "fd-error"))
        }
        for (flag, feature, name) in optional where !withheld.withholds(name) {
            let probe = cfan_init(flags | flag)
            if probe >= 0 {
                try? FileDescriptor(rawValue: probe).close()
                flags |= flag
                features[keyPath: feature] = true
            }
        }
        let fd = cfan_init(flags)
        guard fd >= 0 else {
            let e = Errno(rawValue: -fd)
            switch e {
            case .notPermitted:
                throw SystemCallError("fanotify_init (permission events need CAP_SYS_ADMIN: run as root)", e)
            case .invalidArgument:
                throw SystemCallError("fanotify_init (this kernel has no permission events: CONFIG_FANOTIFY_ACCESS_PERMISSIONS)", e)
            default:
                throw SystemCallError("fanotify_init", e)
            }
        }
        if permission { features.ignoreMarks = Self.probeIgnoreMarks(fd, withheld: withheld) }
        self.fd = FileDescriptor(rawValue: fd)
        self.features = features
    }

    /// Which ignore marks the kernel takes, tried on an inode of the agent's
    /// own (a memfd's, which no one else opens) and removed at once.
    private static func probeIgnoreMarks(_ group: Int32, withheld: WithheldFeatures) -> FanotifyFeatures.IgnoreMarks {
        guard !withheld.withholds("evictable-marks") else { return .none }
        let probe = cfan_private_inode()
        guard probe >= 0 else { return .none }
        defer { try? FileDescriptor(rawValue: probe).close() }
        let mask = UInt64(FAN_OPEN_PERM)
        let base = UInt32(FAN_MARK_ADD | FAN_MARK_INODE | FAN_MARK_EVICTABLE)
        for (flag, kind) in [(UInt32(FAN_MARK_IGNORE), FanotifyFeatures.IgnoreMarks.ignore),
                             (UInt32(FAN_MARK_IGNORED_MASK), .legacy)]
        where !(kind == .ignore && withheld.withholds("fan-mark-ignore")) && cfan_mark_fd(group, base | flag, mask, probe) == 0 {
            _ = cfan_mark_fd(group, UInt32(FAN_MARK_REMOVE | FAN_MARK_INODE) | flag, mask, probe)
            return kind
        }
        return .none
    }

    deinit { close() }

    /// Closes the group: its marks go, and the kernel allows every event still queued. Idempotent.
    package func close() {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        // A call that began before the flag was set finishes first; one that begins after it sees the flag.
        while users.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        try? fd.close()
    }

    /// Runs `body` with the group's fd while the group is open; nil once it is closed.
    private func whileOpen<R>(_ body: (Int32) -> R) -> R? {
        users.add(1, ordering: .sequentiallyConsistent)
        defer { users.subtract(1, ordering: .sequentiallyConsistent) }
        guard !closed.load(ordering: .sequentiallyConsistent) else { return nil }
        return body(fd.rawValue)
    }


    /// The events marked: opens and executions, as permission or notification events.
    private func mask(openExec: Bool) -> UInt64 {
        permission ? UInt64(FAN_OPEN_PERM) | (openExec ? UInt64(FAN_OPEN_EXEC_PERM) : 0)
                   : UInt64(FAN_OPEN) | (openExec ? UInt64(FAN_OPEN_EXEC) : 0)
    }

    private static func flag(_ scope: MarkScope) -> UInt32 {
        scope == .filesystem ? UInt32(FAN_MARK_FILESYSTEM) : UInt32(FAN_MARK_MOUNT)
    }

    /// Marks the filesystem (or mount) that holds `path`. Returns the scope
    /// marked: a filesystem mark falls back to the mount where the kernel or
    /// the filesystem cannot take one. Without FAN_OPEN_EXEC(_PERM) only opens
    /// are marked, and `openExec` turns false.
    package func add(_ path: [UInt8], scope: MarkScope, openExec: inout Bool) throws(SystemCallError) -> MarkScope {
        var result = mark(UInt32(FAN_MARK_ADD) | Self.flag(scope), mask(openExec: openExec), path)
        if result == -EINVAL, openExec {
            // A kernel before 5.0 has no FAN_OPEN_EXEC(_PERM): decide executions as opens.
            result = mark(UInt32(FAN_MARK_ADD) | Self.flag(scope), mask(openExec: false), path)
            if result == 0 { openExec = false }
        }
        if result == 0 { return scope }
        if scope == .filesystem, result == -EINVAL || result == -EXDEV || result == -ENODEV {
            return try add(path, scope: .mount, openExec: &openExec)
        }
        throw SystemCallError("cannot watch \(printable(path)) (\(scope.rawValue) mark)", Errno(rawValue: -result))
    }

    /// Removes the mark `add` put on the filesystem (or mount) of `path`.
    package func remove(_ path: [UInt8], scope: MarkScope, openExec: Bool) throws(SystemCallError) {
        let result = mark(UInt32(FAN_MARK_REMOVE) | Self.flag(scope), mask(openExec: openExec), path)
        if result != 0, result != -ENOENT {
            throw SystemCallError("cannot stop watching \(printable(path)) (\(scope.rawValue) mark)", Errno(rawValue: -result))
        }
    }

    private func mark(_ flags: UInt32, _ mask: UInt64, _ path: [UInt8]) -> Int32 {
        withCPath(path) { cfan_mark(fd.rawValue, flags, mask, $0) }
    }

    /// Reads a batch of events into `buffer`; returns the bytes read, 0 when
    /// none are queued (the reader's common case while it spins: told apart
    /// by errno, before anything is thrown).
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        try systemCall("reading fanotify events") {
            let n = Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
            return n < 0 && errno == EAGAIN ? 0 : n
        }
    }

    /// Puts an evictable ignore mark for `access` on the inode of `eventFD`, so
    /// the kernel answers further such opens of it without an event. The
    /// kernel drops the mark when the file is modified (and may evict it
    /// under memory pressure). Returns false where the kernel cannot (before
    /// 5.19 there are no evictable marks, and a mark that pins the inode is
    /// not worth it).
    package func ignore(_ eventFD: Int32, _ access: Access) -> Bool {
        guard let flag = ignoreFlag else { return false }
        let mask = access == .execute ? UInt64(FAN_OPEN_EXEC_PERM) : UInt64(FAN_OPEN_PERM)
        let flags = UInt32(FAN_MARK_ADD | FAN_MARK_INODE | FAN_MARK_EVICTABLE) | flag
        return whileOpen { group in cfan_mark_fd(group, flags, mask, eventFD) == 0 } ?? false
    }

    /// The flag that makes a mark an ignore mark on this kernel: FAN_MARK_IGNORE,
    /// or the legacy ignored mask before 6.0; nil without evictable marks.
    private var ignoreFlag: UInt32? {
        switch features.ignoreMarks {
        case .ignore: UInt32(FAN_MARK_IGNORE)
        case .legacy: UInt32(FAN_MARK_IGNORED_MASK)
        case .none: nil
        }
    }

    package func unignore(_ eventFD: Int32) {
        _ = whileOpen { group in unignore { cfan_mark_fd(group, $0, $1, eventFD) } }
    }

    /// Drops the ignore marks of the entry `name` in the folder `dir` (not
    /// followed: a symbolic link's own inode is never marked).
    func unignore(at dir: Int32, _ name: UnsafePointer<CChar>) {
        _ = whileOpen { group in unignore { cfan_mark_at(group, $0 | UInt32(FAN_MARK_DONT_FOLLOW), $1, dir, name) } }
    }

    /// `mark(flags, mask)` with the flags that remove ignore marks: FAN_MARK_IGNORE, or the legacy ignored mask before 6.0.
    private func unignore(_ mark: (UInt32, UInt64) -> Int32) {
        guard let flag = ignoreFlag else { return }
        _ = mark(UInt32(FAN_MARK_REMOVE | FAN_MARK_INODE) | flag, UInt64(FAN_OPEN_PERM) | UInt64(FAN_OPEN_EXEC_PERM))
    }

    /// Removes every inode mark: all the ignore marks (the watch marks are
    /// filesystem and mount marks, and stay).
    package func flushIgnoreMarks() {
        _ = whileOpen { cfan_mark($0, UInt32(FAN_MARK_FLUSH), 0, nil) }
    }

    /// Writes one response; with `auditRule`, one that asks for a kernel audit
    /// record naming that rule (falling back to FAN_AUDIT alone on kernels
    /// without FAN_INFO). Returns the errno the kernel gave, if any, and
    /// EBADF without writing anything once the group is closed (the kernel
    /// allowed every event still held when it was).
    package func respond(to eventFD: Int32, _ verdict: Verdict, auditRule: Int?) -> Errno? {
        let response = verdict == .allow ? UInt32(FAN_ALLOW) : UInt32(FAN_DENY)
        let r: Int32 = whileOpen { group in
            guard let rule = auditRule, features.audit else { return cfan_respond(group, eventFD, response) }
            var r = -EINVAL
            if auditRuleRecords.load(ordering: .relaxed) {
                r = cfan_respond_audit_rule(group, eventFD, response, UInt32(clamping: rule))
                if r == -EINVAL { auditRuleRecords.store(false, ordering: .relaxed) }
            }
            return r == -EINVAL ? cfan_respond(group, eventFD, response | UInt32(FAN_AUDIT)) : r
        } ?? -EBADF
        return r == 0 ? nil : Errno(rawValue: -r)
    }
}
