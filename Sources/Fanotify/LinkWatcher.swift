import CFanotify
import Dispatch
import Glibc
import Logging
import Policy
import SystemCall
import SystemPackage

/// Keeps the decision cache honest about paths. An ignore mark follows an
/// inode, and an allow was decided for a path: when a file is renamed or
/// moved (FAN_MOVED_TO), or an existing file gains a hard link (FAN_CREATE of
/// a name whose inode has more than one link), it may now stand under a path
/// whose rules differ. A notification-only group with FAN_REPORT_DFID_NAME
/// on the watched filesystems reports those: a file's own marks are dropped
/// (found by its folder's handle and its name), and a folder moved or a lost
/// notification drops every mark, a storm of those bounded by `KernelCache`.
/// So a user renaming files of their own in a loop costs no one else's
/// cached allows.
package final class LinkWatcher: Sendable {
    private let fd: FileDescriptor
    /// An fd on each watched filesystem, for open_by_handle_at.
    private let mountFDs: [FileDescriptor]
    private let group: FanotifyGroup
    private let cache: KernelCache
    private let logger: Logger
    private let stopPipe: StopPipe
    private let done = DispatchGroup()

    /// Watches the filesystems holding `paths`. Where it cannot (a kernel
    /// that reports no names, before 5.9, or a filesystem that takes no
    /// such mark, such as tmpfs on Debian 11's 5.10), it tells `cache`,
    /// which then places no ignore mark there; nil when it watches none.
    package init?(paths: [[UInt8]], group permissionGroup: FanotifyGroup, cache: KernelCache, logger: Logger) {
        let flags = UInt32(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK) | UInt32(FAN_REPORT_DFID_NAME)
        let notifications: FileDescriptor
        let stopPipe: StopPipe
        do {
            let withheld = WithheldFeatures.fromEnvironment.withholds("rename-watch")
            notifications = FileDescriptor(rawValue: try shimCall("fanotify_init (a group reporting names)") { withheld ? -EINVAL : cfan_init(flags) })
        } catch {
            logger.warning("cannot watch renames (\(error): this kernel reports no names): no allow is cached in the kernel")
            cache.renamesUnfollowed(.everywhere)
            return nil
        }
        do { stopPipe = try StopPipe(for: "the rename watcher's stop") } catch {
            try? notifications.close()
            logger.warning("cannot watch renames (\(error)): no allow is cached in the kernel")
            cache.renamesUnfollowed(.everywhere)
            return nil
        }
        var mountFDs: [FileDescriptor] = []
        var unfollowed: Set<UInt64> = []
        for path in paths {
            do {
                let mask = UInt64(FAN_MOVED_TO) | UInt64(FAN_CREATE) | UInt64(FAN_ONDIR)
                _ = try shimCall("fanotify_mark \(printable(path))") {
                    withCPath(path) { cfan_mark(notifications.rawValue, UInt32(FAN_MARK_ADD | FAN_MARK_FILESYSTEM), mask, $0) }
                }
            } catch {
                logger.warning("cannot watch renames on the filesystem of \(printable(path)) (\(error)): no allow there is cached in the kernel")
                if let device = deviceNumber(of: path) { unfollowed.insert(device) }
                continue
            }
            // open_by_handle_at takes no O_PATH fd, so open a folder: its open
            // raises no permission event (the marks have no FAN_ONDIR), where a
            // file's would wait for a reader that may not run yet.
            let folder = withCPath(path) { FilePath(platformString: $0) }
            let options: FileDescriptor.OpenOptions = [.directory, .nonBlocking, .closeOnExec]
            do { mountFDs.append(try FileDescriptor.open(folder, .readOnly, options: options)) } catch .notDirectory {
                if let m = try? FileDescriptor.open(folder.removingLastComponent(), .readOnly, options: options) { mountFDs.append(m) }
            } catch {}
        }
        cache.renamesUnfollowed(unfollowed.isEmpty ? .nowhere : .on(unfollowed))
        self.fd = notifications
        self.mountFDs = mountFDs
        self.group = permissionGroup
        self.cache = cache
        self.logger = logger
        self.stopPipe = stopPipe
        DispatchQueue(label: "fanfilter.links").async(group: done) { [self] in run() }
    }

    deinit {
        try? fd.close()
        mountFDs.forEach { try? $0.close() }
    }

    /// Stops the thread and waits for it.
    package func stop() {
        stopPipe.signal()
        done.wait()
    }

    private func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        var fds = [pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0),
                   stopPipe.entry]
        while stopPipe.poll(&fds, milliseconds: -1) == .ready {
            guard let n = try? fd.read(into: buffer), n > 0 else { continue }
            var offset = 0
            var event = cfan_event()
            var everywhere = false
            while cfan_next_event(buffer.baseAddress, n, &offset, &event) == 1 {
                if event.fd >= 0 { try? FileDescriptor(rawValue: event.fd).close() }
                if event.pidfd >= 0 { try? FileDescriptor(rawValue: event.pidfd).close() }
                everywhere = everywhere || !dropMovedFile(event)
            }
            if everywhere { cache.changedEverywhere(group) }
        }
    }

    /// Drops the marks of a file the event gave a new path (a move, or a new
    /// name for a file that had one already). False when every mark must go
    /// instead: a folder moved, a lost notification, or a folder that cannot
    /// be found again.
    private func dropMovedFile(_ event: cfan_event) -> Bool {
        if event.mask & UInt64(FAN_Q_OVERFLOW) != 0 { return false }
        let moved = event.mask & UInt64(FAN_MOVED_TO) != 0
        guard moved || event.mask & UInt64(FAN_CREATE) != 0 else { return true }
        if event.mask & UInt64(FAN_ONDIR) != 0 { return !moved }  // a new folder has no marks under it
        guard let handle = event.dir_handle, let name = event.name else { return false }
        for mount in mountFDs {
            let dir = cfan_open_dir_by_handle(mount.rawValue, handle)
            guard dir >= 0 else { continue }
            defer { try? FileDescriptor(rawValue: dir).close() }
            var st = stat()
            // Gone again: its next move is reported too; a new file with one name has no marks yet.
            guard (try? systemCall("fstatat") { fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) }) != nil else { return true }
            if moved || ((st.st_mode & S_IFMT) == S_IFREG && st.st_nlink > 1) { cache.moved(in: group, dir: dir, name) }
            return true
        }
        return false
    }
}
