import CFanotify
import Glibc
import Policy
import Synchronization
import SystemPackage

/// An error from the kernel, saying what was being done.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var errno: Errno?

    public init(_ message: String, errno: Errno? = nil) {
        self.message = message
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return message }
        return "\(message): \(errno.description)"
    }
}
