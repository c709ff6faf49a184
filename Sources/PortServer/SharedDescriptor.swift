import Glibc
import SystemCall
import SystemPackage

/// A duplicate of an event's file descriptor for a decider (`pass_fd`): its
/// own number, so the event's fd being answered and closed (and its number
/// reused) never changes what a client receives. Closed when the last
/// holder lets go.
public final class SharedDescriptor: Sendable {
    public let fd: Int32

    /// Duplicates `fd` (close-on-exec); nil when the process has no descriptor left.
    public init?(duplicating fd: Int32) {
        guard let copy = try? systemCall("fcntl F_DUPFD_CLOEXEC", { fcntl(fd, F_DUPFD_CLOEXEC, 0) }) else { return nil }
        self.fd = copy
    }

    deinit { try? FileDescriptor(rawValue: fd).close() }
}
