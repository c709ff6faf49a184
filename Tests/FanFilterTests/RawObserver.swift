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
              case .welcome = try AgentFrame.decode(r.bytes) else { throw TransportError.closed(operation: "hello") }
    }

    /// Reads what piled up, then, after `next` makes one more decision, what
    /// follows: true once a decision says entries were lost just before it,
    /// and its sequence number skips exactly that many.
    func eventuallySeesLoss(after next: () -> Void) -> Bool {
        var previous: UInt64?
        func read(gap: UInt64) -> Bool {
            while let r = try? socket.receive(capacity: PortLimits.maxAgentFrame, until: SystemClock().now() + gap) {
                guard case .decision(let d)? = try? AgentFrame.decode(r.bytes) else { continue }
                defer { previous = d.sequence }
                if d.lost > 0 { return previous.map { d.sequence - $0 - 1 == UInt64(d.lost) } ?? true }
            }
            return false
        }
        if read(gap: 1_000_000_000) { return true }
        next()
        return read(gap: 2_000_000_000)
    }
}
