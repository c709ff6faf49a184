import SystemPackage

/// A system call that failed: what was being done (the call and what it
/// was done to, in words an admin can act on) and the errno it gave. The one
/// error type of a failed system call in every module.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Errno

    public init(_ operation: String, _ errno: Errno) {
        self.operation = operation
        self.errno = errno
    }

    /// `connect to /run/fanfilter.sock: No such file or directory (errno 2)`.
    public var description: String { "\(operation): \(errno) (errno \(errno.rawValue))" }
}
