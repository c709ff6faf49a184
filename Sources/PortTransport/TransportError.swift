import Glibc

/// A socket call that failed: which, and the errno it gave (0: the other end closed).
public struct TransportError: Error, Equatable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var isEndOfStream: Bool { errno == 0 || errno == ECONNRESET || errno == EPIPE }

    public var description: String {
        errno == 0 ? "\(operation): the other end closed the connection"
            : "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
