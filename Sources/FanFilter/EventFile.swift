import FilterPort
import Glibc
import Policy

/// An event's file descriptors: the file, and the pidfd of the process when
/// the kernel gave one. Closed when the last holder lets go: after the
/// response is written and after the worker reading through them is done.
/// So a closed and reused fd number is never read or answered.
final class EventFile: Sendable {
    let fd: Int32
    let pidfd: Int32
    init(_ fd: Int32, pidfd: Int32 = -1) {
        self.fd = fd
        self.pidfd = pidfd
    }
    deinit {
        close(fd)
        if pidfd >= 0 { close(pidfd) }
    }
}
