import Glibc
import SystemPackage

extension FileDescriptor {
    /// pipe(2) with both ends closed on exec: a pipe the agent keeps to
    /// itself. `purpose` says in the error what the pipe was for.
    public static func closeOnExecPipe(for purpose: String) throws(SystemCallError) -> (readEnd: FileDescriptor, writeEnd: FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        _ = try systemCall("pipe (for \(purpose))") { Glibc.pipe(&fds) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }
}
