import CFanotify
import Glibc
import Policy
import Synchronization
import SystemPackage

/// What the running kernel granted when the group was created.
public struct FanotifyFeatures: Sendable, Equatable, CustomStringConvertible {
    /// Events carry a pidfd, so subject facts can be checked against pid reuse.
    public var pidfd = false
    /// Responses may ask for a kernel audit record (FAN_AUDIT).
    public var audit = false
    /// The event queue has no length limit.
    public var unlimitedQueue = false
    /// Executions are reported apart from opens (FAN_OPEN_EXEC_PERM).
    public var openExecPerm = true

    public var description: String {
        [("pidfd", pidfd), ("audit", audit), ("unlimited-queue", unlimitedQueue), ("open-exec-perm", openExecPerm)]
            .map { "\($0.0)=\($0.1 ? "yes" : "no")" }.joined(separator: " ")
    }
}

/// An error from the kernel, saying what was being done.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var errno: Errno?

    public init(_ message: String, errno: Errno? = nil) {
        self.message = message
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return message }
        return "\(message): \(errno.description)"
    }
}

/// One fanotify group of class FAN_CLASS_CONTENT: its fd, its marks, and the
/// one way to answer a permission event. Creating it probes the kernel's
/// optional features and keeps those it grants.
final class FanotifyGroup: Sendable {
    let fd: FileDescriptor
    let features: FanotifyFeatures
    private let closed = Atomic<Bool>(false)

    init() throws(AgentError) {
        let base = UInt32(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK)
        var features = FanotifyFeatures()
        features.openExecPerm = false
        var flags = base
        let optional: [(UInt32, WritableKeyPath<FanotifyFeatures, Bool>)] = [
            (UInt32(FAN_REPORT_PIDFD), \.pidfd),
            (UInt32(FAN_ENABLE_AUDIT), \.audit),
            (UInt32(FAN_UNLIMITED_QUEUE), \.unlimitedQueue),
        ]
        for (flag, feature) in optional {
            let probe = cfan_init(flags | flag)
            if probe >= 0 {
                Glibc.close(probe)
                flags |= flag
                features[keyPath: feature] = true
            }
        }
        let fd = cfan_init(flags)
        guard fd >= 0 else {
            let e = Errno(rawValue: -fd)
            switch e {
            case .notPermitted:
                throw AgentError("fanotify permission events need CAP_SYS_ADMIN (run as root)", errno: e)
            case .invalidArgument:
                throw AgentError("this kernel has no fanotify permission events (CONFIG_FANOTIFY_ACCESS_PERMISSIONS)", errno: e)
            default:
                throw AgentError("fanotify_init failed", errno: e)
            }
        }
        self.fd = FileDescriptor(rawValue: fd)
        features.openExecPerm = true // confirmed or withdrawn by the first mark
        self.features = features
    }

    deinit { close() }

    /// Closes the group: its marks go, and the kernel allows every event still queued. Idempotent.
    func close() {
        if !closed.exchange(true, ordering: .sequentiallyConsistent) { try? fd.close() }
    }

    enum MarkScope: String, Sendable {
        case filesystem, mount
    }

    /// Adds a permission mark on the filesystem (or mount) that holds `path`.
    /// Returns the scope marked: a filesystem mark falls back to the mount where
    /// the kernel or the filesystem cannot take one. Without FAN_OPEN_EXEC_PERM
    /// only opens are marked.
    func markPermissions(_ path: [UInt8], scope: MarkScope, openExec: inout Bool) throws(AgentError) -> MarkScope {
        let scopeFlag = scope == .filesystem ? UInt32(FAN_MARK_FILESYSTEM) : UInt32(FAN_MARK_MOUNT)
        var mask = UInt64(FAN_OPEN_PERM) | (openExec ? UInt64(FAN_OPEN_EXEC_PERM) : 0)
        var result = mark(UInt32(FAN_MARK_ADD) | scopeFlag, mask, path)
        if result == -EINVAL, openExec {
            // A kernel before 5.0 has no FAN_OPEN_EXEC_PERM: decide executions as opens.
            mask = UInt64(FAN_OPEN_PERM)
            result = mark(UInt32(FAN_MARK_ADD) | scopeFlag, mask, path)
            if result == 0 { openExec = false }
        }
        if result == 0 { return scope }
        if scope == .filesystem, result == -EINVAL || result == -EXDEV || result == -ENODEV {
            return try markPermissions(path, scope: .mount, openExec: &openExec)
        }
        throw AgentError("cannot watch \(printable(path)) (\(scope.rawValue) mark)", errno: Errno(rawValue: -result))
    }

    private func mark(_ flags: UInt32, _ mask: UInt64, _ path: [UInt8]) -> Int32 {
        (path + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { cfan_mark(fd.rawValue, flags, mask, $0.baseAddress) }
        }
    }

    /// Reads a batch of events into `buffer`; returns the bytes read, 0 when none are queued.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(AgentError) -> Int {
        while true {
            let n = Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN: return 0
            default: throw AgentError("reading fanotify events failed", errno: Errno(rawValue: errno))
            }
        }
    }

    /// Writes one response. Returns the errno the kernel gave, if any.
    func respond(to eventFD: Int32, _ verdict: Verdict) -> Errno? {
        let r = cfan_respond(fd.rawValue, eventFD, verdict == .allow ? UInt32(FAN_ALLOW) : UInt32(FAN_DENY))
        return r == 0 ? nil : Errno(rawValue: -r)
    }
}
