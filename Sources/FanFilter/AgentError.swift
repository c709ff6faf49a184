import SystemCall
import SystemPackage

/// Why the agent could not do what it was asked (make its fanotify group,
/// watch a path, read events, start, reload): a system call failed, or the
/// agent itself refused (a path under /proc, a reload while stopping, a port
/// group that does not exist).
public enum AgentError: Error, CustomStringConvertible, Sendable {
    case failed(SystemCallError)
    case refused(String)

    /// The errno of the system call that failed; nil when the agent refused.
    public var errno: Errno? {
        guard case .failed(let failure) = self else { return nil }
        return failure.errno
    }

    public var description: String {
        switch self {
        case .failed(let failure): failure.description
        case .refused(let reason): reason
        }
    }
}
