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
    private let readEnd: FileDescriptor
    private let writeEnd: FileDescriptor

    /// Throws when no pipe can be made (no descriptors left); `purpose` names
    /// whose stop it is in the error.
    package init(for purpose: String) throws(SystemCallError) {
        do { (readEnd, writeEnd) = try FileDescriptor.pipe(options: .closeOnExec) } catch {
            throw SystemCallError("pipe (for \(purpose))", error)
        }
    }

    deinit {
        try? readEnd.close()
        try? writeEnd.close()
    }

    /// Wakes the thread polling `entry` for good. A full pipe already wakes it.
    package func signal() {
        _ = try? writeEnd.writeAll([UInt8(1)])
    }

    /// The entry to put last in a poll set.
    package var entry: pollfd { pollfd(fd: readEnd.rawValue, events: Int16(POLLIN), revents: 0) }

    /// Polls `fds`, whose last entry is this pipe's `entry`, for at most
    /// `milliseconds` (-1: no bound), again when a signal interrupts it.
    package func poll(_ fds: inout [pollfd], milliseconds: Int32) -> PollResult {
        precondition(fds.last?.fd == readEnd.rawValue, "the stop pipe is the last entry")
        let n: Int
        do { n = try Poll.wait(&fds, milliseconds: milliseconds) } catch { return .failed(error) }
        if fds[fds.count - 1].revents != 0 { return .stopped }
        return n == 0 ? .timedOut : .ready
    }
}
