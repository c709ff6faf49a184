import Clocks
import PortProtocol
import PortTransport

/// An observer that reads nothing until asked: the slow observer of the monitor tests.
final class RawObserver {
    let socket: SeqPacketSocket

    init(_ path: String) throws {
        socket = try SeqPacketSocket(connectingTo: path)
        try socket.send(ClientFrame.hello(Hello(role: .observer, name: "deaf")).encode())
        guard let r = try socket.receive(capacity: PortLimits.maxAgentFrame, until: SystemClock().now() + 5_000_000_000),
              case .welcome = try AgentFrame.decode(r.bytes) else { throw TransportError(operation: "hello", errno: 0) }
    }

    /// Reads what piled up; true once a decision says entries were lost.
    func eventuallySeesLoss() -> Bool {
        while let r = try? socket.receive(capacity: PortLimits.maxAgentFrame, until: SystemClock().now() + 2_000_000_000) {
            if case .decision(let d)? = try? AgentFrame.decode(r.bytes), d.lost > 0 { return true }
        }
        return false
    }
}
