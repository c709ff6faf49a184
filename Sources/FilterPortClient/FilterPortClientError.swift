import PortProtocol
import PortTransport

/// Why a client call failed, in words a client can print as they are.
public enum FilterPortClientError: Error, Equatable, CustomStringConvertible {
    /// The socket call failed (no agent listening, permission denied, …).
    case transport(TransportError)
    /// The agent refused the connection, and said why.
    case refused(PortErrorCode, reason: String)
    /// The connection is over: the agent's code and reason when it sent one.
    case disconnected(PortErrorCode?, reason: String)
    /// The agent sent a frame this library cannot read.
    case badFrame(FrameError)
    /// The call needs another role (a prime from an observer, …).
    case wrongRole(String)
    /// The thread's scheduling could not be changed (`runThisThreadInRealTime`), and why.
    case scheduling(String)

    public var description: String {
        switch self {
        case .transport(let e): "\(e)"
        case .refused(let code, let reason): "the agent refused the connection (\(code)): \(reason)"
        case .disconnected(let code, let reason):
            code.map { "disconnected by the agent (\($0)): \(reason)" } ?? "disconnected: \(reason)"
        case .badFrame(let e): "the agent sent a frame that cannot be read: \(e)"
        case .wrongRole(let what): what
        case .scheduling(let why): why
        }
    }
}
