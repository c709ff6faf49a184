import CFanotify
import Dispatch
import Glibc
import Logging
import Policy
import SystemPackage

/// Keeps the decision cache honest about paths. An ignore mark follows an
/// inode, and an allow was decided for a path: when a file is renamed or
/// moved (FAN_MOVED_TO, a folder too), or an existing file gains a hard link
/// (FAN_CREATE of a name whose inode has more than one link), it may now
/// stand under a path whose rules differ. A notification-only group with
/// FAN_REPORT_DFID_NAME on the watched filesystems reports those, and each
/// one drops every ignore mark (a new cache epoch). Renames are rare next to
/// opens, so dropping all is cheap and leaves nothing to get wrong.
final class LinkWatcher: Sendable {
    private let fd: FileDescriptor
    /// An fd on each watched filesystem, for open_by_handle_at.
    private let mountFDs: [Int32]
    private let onChange: @Sendable () -> Void
    private let logger: Logger
    private let stopPipe: StopPipe
    private let done = DispatchGroup()

    /// Watches the filesystems holding `paths`; nil where the kernel cannot
    /// report names (before 5.9), in which case the README's window is wider.
    init?(paths: [[UInt8]], logger: Logger, onChange: @escaping @Sendable () -> Void) {
        let flags = UInt32(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK) | UInt32(FAN_REPORT_DFID_NAME)
        let group = cfan_init(flags)
        guard group >= 0 else { return nil }
        var mountFDs: [Int32] = []
        for path in paths {
            let marked = withCPath(path) { c -> Bool in
                let mask = UInt64(FAN_MOVED_TO) | UInt64(FAN_CREATE) | UInt64(FAN_ONDIR)
                guard cfan_mark(group, UInt32(FAN_MARK_ADD | FAN_MARK_FILESYSTEM), mask, c) == 0 else { return false }
                // open_by_handle_at takes no O_PATH fd, so open a folder: its open
                // raises no permission event (the marks have no FAN_ONDIR), where a
                // file's would wait for a reader that may not run yet.
                var m = open(c, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC)
                if m < 0, errno == ENOTDIR, let copy = strdup(c) {
                    m = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC)
                    free(copy)
                }
                if m >= 0 { mountFDs.append(m) }
                return true
            }
            if !marked { logger.warning("cannot watch renames on the filesystem of \(printable(path)): cached allows there last until a reload") }
        }
        guard let stopPipe = StopPipe() else {
            close(group)
            mountFDs.forEach { close($0) }
            return nil
        }
        self.fd = FileDescriptor(rawValue: group)
        self.mountFDs = mountFDs
        self.onChange = onChange
        self.logger = logger
        self.stopPipe = stopPipe
        DispatchQueue(label: "fanfilter.links").async(group: done) { [self] in run() }
    }

    deinit {
        try? fd.close()
        mountFDs.forEach { close($0) }
    }

    /// Stops the thread and waits for it.
    func stop() {
        stopPipe.signal()
        done.wait()
    }

    private func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        var fds = [pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0),
                   stopPipe.entry]
        while stopPipe.poll(&fds, milliseconds: -1) == .ready {
            let n = Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
            if n <= 0 { continue }
            var offset = 0
            var event = cfan_event()
            var stale = false
            while cfan_next_event(buffer.baseAddress, n, &offset, &event) == 1 {
                if event.fd >= 0 { close(event.fd) }
                if event.pidfd >= 0 { close(event.pidfd) }
                stale = stale || invalidates(event)
            }
            if stale { onChange() }
        }
    }

    /// A move, an overflow (something may have been missed), or a new name for a file that had one already.
    private func invalidates(_ event: cfan_event) -> Bool {
        if event.mask & (UInt64(FAN_MOVED_TO) | UInt64(FAN_Q_OVERFLOW)) != 0 { return true }
        guard event.mask & UInt64(FAN_CREATE) != 0, event.mask & UInt64(FAN_ONDIR) == 0,
              let handle = event.dir_handle, let name = event.name else { return false }
        for mount in mountFDs {
            let dir = cfan_open_dir_by_handle(mount, handle)
            guard dir >= 0 else { continue }
            defer { close(dir) }
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return true }
            return (st.st_mode & S_IFMT) == S_IFREG && st.st_nlink > 1
        }
        return true
    }
}
