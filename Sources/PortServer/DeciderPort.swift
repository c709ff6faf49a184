import FilterPort

/// A message the agent's port can carry to a socket decider: its wire form
/// when it is one for the deciders (nil: it is for another lane's clients).
public protocol WireCarrying: PortPayload {
    var wire: WireMessage? { get }
}

/// A reply the agent's port can make of what a socket decider sent.
public protocol ClientAnswerable: PortPayload {
    init(client: ClientReply)
}

extension WireMessage: WireCarrying {
    public var wire: WireMessage? { self }
}

extension ClientReply: ClientAnswerable {
    public init(client: ClientReply) { self = client }
}

/// The agent's one `FilterPort`, as the socket side sees it: each decider
/// that says hello is connected to it, in the deciders' lane, and gets the
/// messages of that lane pushed to its socket. The socket side holds no port
/// of its own: the port's contract (primed gets, replies by id, one outcome
/// per send) is the port's alone.
public struct DeciderPort: Sendable {
    let connect: @Sendable (_ name: String, _ push: @escaping @Sendable (MessageHeader, WireMessage) -> Void) throws(PortError) -> DeciderLink
    let unanswered: @Sendable (_ connection: UInt64) -> Int

    /// Deciders connect to `port` in lane `lane`.
    public init<Message: WireCarrying, Reply: ClientAnswerable>(_ port: FilterPort<Message, Reply>, lane: Int) {
        connect = { name, push throws(PortError) in
            let client = try port.connect(context: Array(name.utf8), lane: lane) { message in
                // Only the deciders' lane comes here, and each of its messages has a wire form.
                if let wire = message.payload.wire { push(message.header, wire) }
            }
            return DeciderLink(
                id: client.info.id,
                prime: { count throws(PortError) in try client.prime(count) },
                reply: { id, status, reply throws(PortError) in try client.reply(id, status: status, Reply(client: reply)) },
                disconnect: { client.disconnect() })
        }
        unanswered = { port.unansweredCount(of: $0) }
    }
}

/// One decider's connection on the agent's port.
struct DeciderLink: Sendable {
    let id: UInt64
    let prime: @Sendable (Int) throws(PortError) -> Void
    let reply: @Sendable (_ messageId: UInt64, _ status: Int32, ClientReply) throws(PortError) -> Void
    let disconnect: @Sendable () -> Void
}
