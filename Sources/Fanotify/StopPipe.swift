import Glibc
import SystemCall
import SystemPackage

/// A pipe whose read end a thread polls beside its own descriptors, so that
/// `signal()` from any thread wakes it to stop. Both ends are closed with it.
/// `poll` is the one poll loop of the agent's threads (EINTR retried).
package final class StopPipe: Sendable {
    package enum PollResult: Equatable {
        /// A descriptor of the caller's is ready (see each one's `revents`).
        case ready
        case timedOut
        /// `signal()` ran: the thread stops.
        case stopped
        case failed(SystemCallError)
    }
    /// Readable once `signal()` ran.
    private let readFD: Int32
    private let writeFD: Int32

    /// nil when no pipe can be made (no descriptors left).
    package init?() {
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

    package func signal() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// The entry to put last in a poll set.
    package var entry: pollfd { pollfd(fd: readFD, events: Int16(POLLIN), revents: 0) }

    /// Polls `fds`, whose last entry is this pipe's `entry`, for at most
    /// `milliseconds` (-1: no bound), again when a signal interrupts it.
    package func poll(_ fds: inout [pollfd], milliseconds: Int32) -> PollResult {
        precondition(fds.last?.fd == readFD, "the stop pipe is the last entry")
        let n: Int
        do { n = try Poll.wait(&fds, milliseconds: milliseconds) } catch { return .failed(error) }
        if fds[fds.count - 1].revents != 0 { return .stopped }
        return n == 0 ? .timedOut : .ready
    }
}
