import SystemCall
import SystemPackage

/// Why a call on a port connection did not go through: the other end had
/// closed it, or a system call failed.
public enum TransportError: Error, Equatable, CustomStringConvertible {
    /// The other end closed the connection before or during `operation`.
    case closed(operation: String)
    case failed(SystemCallError)

    /// The other end is gone: closed, reset, or no longer reading.
    public var isEndOfStream: Bool {
        switch self {
        case .closed: true
        case .failed(let failure): failure.errno == .connectionReset || failure.errno == .brokenPipe
        }
    }

    /// The errno of the system call that failed; nil when the other end closed.
    public var errno: Errno? {
        guard case .failed(let failure) = self else { return nil }
        return failure.errno
    }

    public var description: String {
        switch self {
        case .closed(let operation): "\(operation): the other end closed the connection"
        case .failed(let failure): failure.description
        }
    }
}
