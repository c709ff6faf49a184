import SystemPackage

/// A socket call that failed: which, and the errno it gave (nil: the other
/// end closed the connection).
public struct TransportError: Error, Equatable, CustomStringConvertible {
    public var operation: String
    public var errno: Errno?

    public init(operation: String, errno: Errno?) {
        self.operation = operation
        self.errno = errno
    }

    /// The other end is gone: closed, reset, or no longer reading.
    public var isEndOfStream: Bool { errno == nil || errno == .connectionReset || errno == .brokenPipe }

    public var description: String {
        guard let errno else { return "\(operation): the other end closed the connection" }
        return "\(operation): \(errno) (errno \(errno.rawValue))"
    }
}
