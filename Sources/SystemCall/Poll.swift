import Glibc
import SystemPackage

/// poll(2), the one call swift-system does not wrap.
public enum Poll {
    /// Waits until one of `fds` is ready or `milliseconds` pass (-1: no
    /// bound); EINTR is retried. Returns how many are ready (0: the time
    /// passed); each entry's `revents` says what.
    public static func wait(_ fds: inout [pollfd], milliseconds: Int32) throws(SystemCallError) -> Int {
        Int(try systemCall("poll") { Glibc.poll(&fds, nfds_t(fds.count), milliseconds) })
    }
}
