import Dispatch
import Glibc
import SystemCall
import SystemPackage

/// Calls `onChange` (on a thread of its own) each time the mount table of the
/// agent's mount namespace, or of PID 1's, changes: poll(2) reports
/// /proc/PID/mountinfo readable with POLLPRI after every mount, unmount and
/// remount. A filesystem mark lasts only as long as its filesystem, so this
/// is how the agent learns that a watched filesystem went away or that a new
/// one appeared where it watches.
package final class MountWatcher: Sendable {
    private let files: [FileDescriptor]
    private let stopPipe: StopPipe
    private let onChange: @Sendable () -> Void
    private let done = DispatchGroup()

    /// Throws when the agent's own mount table cannot be opened, or no stop
    /// pipe made; PID 1's table is followed too where it can be opened.
    package init(onChange: @escaping @Sendable () -> Void) throws(SystemCallError) {
        var files: [FileDescriptor] = []
        do {
            files.append(try FileDescriptor.open("/proc/self/mountinfo", .readOnly, options: .closeOnExec))
            if !sameMountNamespace("/proc/self/ns/mnt", "/proc/1/ns/mnt"),
               let init1 = try? FileDescriptor.open("/proc/1/mountinfo", .readOnly, options: .closeOnExec) {
                files.append(init1)
            }
        } catch { throw SystemCallError("open /proc/self/mountinfo", (error as? Errno) ?? .ioError) }
        do { stopPipe = try StopPipe(for: "the mount watcher's stop") } catch {
            files.forEach { try? $0.close() }
            throw error
        }
        self.files = files
        self.onChange = onChange
        DispatchQueue(label: "fanfilter.mounts").async(group: done) { [self] in run() }
    }

    deinit { files.forEach { try? $0.close() } }

    /// Stops the thread and waits for it.
    package func stop() {
        stopPipe.signal()
        done.wait()
    }

    private func run() {
        var fds = files.map { pollfd(fd: $0.rawValue, events: Int16(POLLPRI), revents: 0) }
        fds.append(stopPipe.entry)
        var scratch = [UInt8](repeating: 0, count: 4096)
        while stopPipe.poll(&fds, milliseconds: -1) == .ready {
            var changed = false
            for (i, file) in files.enumerated() where fds[i].revents & Int16(POLLPRI | POLLERR) != 0 {
                // Reading the file to its end again is what clears the event.
                _ = try? file.seek(offset: 0, from: .start)
                while ((try? scratch.withUnsafeMutableBytes { try file.read(into: $0) }) ?? 0) > 0 {}
                changed = true
            }
            if changed { onChange() }
        }
    }
}

/// Whether two /proc/PID/ns/mnt links name the same mount namespace (true when unknown).
func sameMountNamespace(_ a: String, _ b: String) -> Bool {
    guard let sa = try? FilePath(a).stat(), let sb = try? FilePath(b).stat() else { return true }
    return sa.inode == sb.inode && sa.deviceID == sb.deviceID
}
