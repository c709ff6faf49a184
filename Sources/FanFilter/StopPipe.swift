import Glibc

/// A pipe whose read end a thread polls beside its own descriptors, so that
/// `signal()` from any thread wakes it to stop. Both ends are closed with it.
final class StopPipe: Sendable {
    /// Poll this for POLLIN: readable once `signal()` ran.
    let readFD: Int32
    private let writeFD: Int32

    /// nil when no pipe can be made (no descriptors left).
    init?() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }
}
