import CPortSocket
import Glibc
import SystemCall
import SystemPackage

/// Who is at the other end of a connection, as the kernel saw it at
/// connect (SO_PEERCRED), with a pidfd that keeps telling that process
/// from a later one with the same pid (SO_PEERPIDFD).
final class Peer: Sendable {
    let uid: UInt32
    let gid: UInt32
    let pid: Int32
    private let pidfd: Int32

    init?(_ fd: Int32) {
        var uid: UInt32 = 0, gid: UInt32 = 0, pid: Int32 = 0, pidfd: Int32 = -1
        guard cport_peer(fd, &uid, &gid, &pid, &pidfd) == 0 else { return nil }
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.pidfd = pidfd
    }

    deinit { if pidfd >= 0 { try? FileDescriptor(rawValue: pidfd).close() } }

    /// Whether `pid` is this peer's process, still alive (a pidfd turns readable when it exits).
    func isProcess(_ pid: Int32) -> Bool {
        guard pid == self.pid else { return false }
        guard pidfd >= 0 else { return true }
        var p = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
        return (try? Poll.wait(&p, milliseconds: 0)) == 0
    }
}
