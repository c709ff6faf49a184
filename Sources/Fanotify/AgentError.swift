import SystemPackage

/// Why the agent could not do what it was asked (make its fanotify group,
/// watch a path, read events, start, reload): what was being done, and the
/// Errno when a system call refused it (nil when the agent itself refused:
/// a group that does not exist, a path under /proc, a reload while stopping).
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
