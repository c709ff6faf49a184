import Clocks
import PortProtocol
import PortTransport
import SystemCall

/// A client that sends any frame, well-formed or not, and reads the agent's
/// frames one at a time: for the tests of what the server does with a
/// client that breaks the protocol.
final class RawClient {
    let socket: SeqPacketSocket

    init(_ path: String) throws { socket = try SeqPacketSocket(connectingTo: path) }

    /// Connects and says hello; throws unless welcomed.
    convenience init(_ path: String, _ hello: Hello) throws {
        try self.init(path)
        try send(ClientFrame.hello(hello))
        guard case .welcome = try next() else { throw TransportError.closed(operation: "hello") }
    }

    func send(_ frame: ClientFrame) throws { try socket.send(frame.encode()) }
    func send(bytes: [UInt8]) throws { try socket.send(bytes) }
    func prime(_ n: UInt32) throws { try send(.prime(count: n)) }

    /// The next frame within `seconds`; throws at end of stream or when none came.
    func next(within seconds: UInt64 = 10) throws -> AgentFrame {
        guard let r = try socket.receive(capacity: PortLimits.maxAgentFrame, until: SystemClock().now() + seconds * 1_000_000_000) else {
            throw TransportError.failed(SystemCallError("receive (nothing within \(seconds) s)", .timedOut))
        }
        return try AgentFrame.decode(r.bytes)
    }

    /// Reads until the server closes the connection; returns the fatal error it sent first, if any.
    func fatalError(within seconds: UInt64 = 10) -> PortErrorCode? {
        var code: PortErrorCode?
        while let frame = try? next(within: seconds) {
            if case .error(let c, _, _) = frame, c.isFatal { code = c }
            if case .refused(let c, _) = frame { code = c }
        }
        return code
    }
}
