import Dispatch
import Glibc

/// Calls `onChange` (on a thread of its own) each time the mount table of the
/// agent's mount namespace, or of PID 1's, changes: poll(2) reports
/// /proc/PID/mountinfo readable with POLLPRI after every mount, unmount and
/// remount. A filesystem mark lasts only as long as its filesystem, so this
/// is how the agent learns that a watched filesystem went away or that a new
/// one appeared where it watches.
package final class MountWatcher: Sendable {
    private let files: [Int32]
    private let stopPipe: StopPipe
    private let onChange: @Sendable () -> Void
    private let done = DispatchGroup()

    package init?(onChange: @escaping @Sendable () -> Void) {
        var files = [open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)]
        if !sameMountNamespace("/proc/self/ns/mnt", "/proc/1/ns/mnt") {
            files.append(open("/proc/1/mountinfo", O_RDONLY | O_CLOEXEC))
        }
        files = files.filter { $0 >= 0 }
        guard !files.isEmpty, let stopPipe = StopPipe() else {
            files.forEach { close($0) }
            return nil
        }
        self.files = files
        self.stopPipe = stopPipe
        self.onChange = onChange
        DispatchQueue(label: "fanfilter.mounts").async(group: done) { [self] in run() }
    }

    deinit { files.forEach { close($0) } }

    /// Stops the thread and waits for it.
    package func stop() {
        stopPipe.signal()
        done.wait()
    }

    private func run() {
        var fds = files.map { pollfd(fd: $0, events: Int16(POLLPRI), revents: 0) }
        fds.append(stopPipe.entry)
        var scratch = [UInt8](repeating: 0, count: 4096)
        while stopPipe.poll(&fds, milliseconds: -1) == .ready {
            var changed = false
            for i in files.indices where fds[i].revents & Int16(POLLPRI | POLLERR) != 0 {
                // Reading the file to its end again is what clears the event.
                _ = lseek(files[i], 0, SEEK_SET)
                while scratch.withUnsafeMutableBytes({ read(files[i], $0.baseAddress, $0.count) }) > 0 {}
                changed = true
            }
            if changed { onChange() }
        }
    }
}

/// Whether two /proc/PID/ns/mnt links name the same mount namespace (true when unknown).
func sameMountNamespace(_ a: String, _ b: String) -> Bool {
    var sa = stat(), sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return true }
    return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev
}
