import FilterPort
import Glibc
import Policy
import PortServer

/// What answers a message on the agent's port: a worker's decision, a
/// worker's finding that an `ask` rule leaves it to the deciders, or a
/// decider's reply as it sent it.
package enum DecisionReply: PortPayload, ClientAnswerable {
    /// The policy's decision; `cacheable`: an allow any process would get for
    /// this file (the kernel may cache it); `setting`: the setting that
    /// answered when no rule could (`on_unknown_path`, `on_overload`), for observers.
    case decided(Decision, cacheable: Bool, setting: String?)
    /// An `ask` rule matched: the port sends the event to the deciders.
    case ask(AskedEvent)
    /// A socket decider's reply (its payload is checked against the reply capacity).
    case client(ClientReply)

    package init(client: ClientReply) { self = .client(client) }

    package var byteCount: Int {
        if case .client(let reply) = self { return reply.byteCount }
        return Self.capacity
    }

    /// What a worker's reply may take: a verdict and a rule number.
    package static let capacity = 16
}
