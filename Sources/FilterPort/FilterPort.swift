import Clocks
import DequeModule
import Dispatch
import Synchronization

/// The filter side of a minifilter-style communication port, in process.
///
/// The contract of FltCreateCommunicationPort / FltSendMessage / FilterGetMessage /
/// FilterReplyMessage, kept exactly:
/// - a message is delivered only to a get that a client has primed, and waits
///   in the backlog (bounded by `backlogCapacity` unanswered messages) until then;
/// - every `send` ends in exactly one `SendOutcome`, within its timeout: the
///   timeout covers delivery and reply together;
/// - a reply is matched by message id; an unknown, late or second reply gets
///   `PortError.noWaiterForReply` and changes nothing;
/// - a client that disconnects fails its unanswered messages at once (those
///   past their deadline as timed out, the others as disconnected);
/// - with `serves`, a message goes only to a client that serves it, and ends
///   `.noClient` when no connected client does;
/// - with `lanes`, a message goes only to a client connected in its lane:
///   each lane keeps its own primed gets and waiting messages, so a send
///   looks at none of another lane's (the agent's in-process workers and its
///   socket deciders share one port in two lanes).
public final class FilterPort<Message: PortPayload, Reply: PortPayload>: Sendable {
    public typealias OutcomeHandler = @Sendable (MessageHeader, Message, SendOutcome<Reply>) -> Void

    public let name: String
    public let maxConnections: Int
    public let backlogCapacity: Int

    private struct Pending {
        var message: Message
        var replyCapacity: Int
        var onOutcome: OutcomeHandler
        var deliveredTo: UInt64?
        /// When it times out, on the port's clock.
        var deadline: UInt64
    }

    private struct Connection {
        var info: ConnectionInfo
        var inbox: ClientInbox<Message>
        var lane: Int
    }

    private struct State {
        var nextMessageId: UInt64 = 1
        var nextConnectionId: UInt64 = 1
        var closed = false
        var connections: [UInt64: Connection] = [:]
        /// Every unanswered message, delivered or not.
        var pending: [UInt64: Pending] = [:]
        /// Each lane's messages waiting for a primed get, oldest first (answered ones are skipped).
        var undelivered: [Deque<UInt64>]
        /// Each lane's primed gets, one entry per get, by connection id (gone connections are skipped).
        var primedGets: [Deque<UInt64>]

        init(lanes: Int) {
            undelivered = Array(repeating: Deque(), count: lanes)
            primedGets = Array(repeating: Deque(), count: lanes)
        }
    }

    private let state: Mutex<State>
    private let serves: (@Sendable (ConnectionInfo, Message) -> Bool)?
    private let lane: (@Sendable (Message) -> Int)?
    /// Whether a client's waiting thread may spin now (shared by its inboxes, and by whoever made the port).
    public let busy: BusyCPU
    private let timer: DeadlineTimer

    /// Creates a named port.
    /// - Parameters:
    ///   - maxConnections: how many clients may be connected at once (at least 1).
    ///   - backlogCapacity: how many messages may be unanswered at once; a send beyond it ends `.backlogFull` at once.
    ///   - serves: which clients of its lane a message may go to (nil: any); it runs under the port's lock, so it must be quick.
    ///   - lanes: how many lanes the port has (at least 1); `lane` says which a message goes in (nil: the first).
    ///   - busy: whether spinning pays now, for the clients' waiting threads (see `BusyCPU`).
    ///   - clock: when timeouts fall due (tests pass a clock they advance by hand).
    public init(
        name: String,
        maxConnections: Int,
        backlogCapacity: Int,
        serves: (@Sendable (ConnectionInfo, Message) -> Bool)? = nil,
        lanes: Int = 1,
        lane: (@Sendable (Message) -> Int)? = nil,
        busy: BusyCPU = BusyCPU(),
        clock: any MonotonicClock = SystemClock()
    ) {
        precondition(maxConnections > 0, "a port needs maxConnections > 0")
        precondition(lanes > 0, "a port needs lanes > 0")
        precondition(backlogCapacity > 0, "a port needs backlogCapacity > 0")
        self.name = name
        self.maxConnections = maxConnections
        self.backlogCapacity = backlogCapacity
        self.serves = serves
        self.lane = lane
        self.busy = busy
        self.state = Mutex(State(lanes: lanes))
        let expiry = WeakPortBox()
        self.timer = DeadlineTimer(name: "fanfilter.port.\(name).timer", clock: clock) { id in
            expiry.expire?(id)
        }
        expiry.set { [weak self] id in self?.expire(id) }
    }

    deinit { timer.stop() }

    // MARK: Filter side

    /// FltSendMessage without blocking: `onOutcome` runs exactly once, on the
    /// thread that settles the message (this one for `.noClient` and
    /// `.backlogFull`, the replying client's for a reply, the port's timer
    /// thread for a timeout). Returns the message id.
    @discardableResult
    public func send(
        _ message: Message, replyCapacity: Int, timeout: Duration,
        onOutcome: @escaping OutcomeHandler
    ) -> UInt64 {
        send(message, replyCapacity: replyCapacity, timeout: timeout, takenBy: nil, onOutcome: onOutcome).id
    }

    /// `send`; when a primed get of connection `takenBy` takes the message
    /// and no thread of that client spins for it, the message is not put in
    /// its inbox but returned, as that client's thread would take it.
    func send(
        _ message: Message, replyCapacity: Int, timeout: Duration, takenBy: UInt64?,
        onOutcome: @escaping OutcomeHandler
    ) -> (id: UInt64, taken: PortMessage<Message>?) {
        let deadline = timer.clock.deadline(after: timeout)
        var refused: SendOutcome<Reply>?
        var delivery: Delivery?
        var taken = false
        let id = state.withLock { s -> UInt64 in
            let id = s.nextMessageId
            s.nextMessageId += 1
            if s.connections.isEmpty { refused = .noClient; return id }
            if s.pending.count >= backlogCapacity { refused = anyServes(message, in: s) ? .backlogFull : .noClient; return id }
            // A primed get that takes it proves a client serves it; else it is asked of them all.
            let lane = lane(of: message, in: s)
            let inbox = popPrimedGet(for: message, lane: lane, in: &s)
            if inbox == nil, !anyServes(message, in: s) { refused = .noClient; return id }
            s.pending[id] = Pending(message: message, replyCapacity: replyCapacity,
                                    onOutcome: onOutcome, deliveredTo: inbox?.connectionId, deadline: deadline)
            if let inbox {
                if inbox.connectionId == takenBy, inbox.push == nil, !inbox.hasSpinner {
                    taken = true
                } else {
                    delivery = Self.deliver(id, to: inbox, in: s)
                }
            } else {
                s.undelivered[lane].append(id)
            }
            return id
        }
        let header = MessageHeader(replyLength: UInt32(clamping: replyCapacity), messageId: id)
        if let refused {
            onOutcome(header, message, refused)
            return (id, nil)
        }
        delivery?.run()
        timer.schedule(id, at: deadline)
        return (id, taken ? PortMessage(header: header, payload: message) : nil)
    }

    /// Closes the server port to new connections; connected clients stay.
    public func close() {
        state.withLock { $0.closed = true }
    }

    /// How many messages are unanswered.
    public var unansweredCount: Int { state.withLock { $0.pending.count } }

    /// How many clients are connected.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    // MARK: Client side (reached through ClientPort)

    /// FilterConnectCommunicationPort. With `push`, each message delivered
    /// to one of the client's primed gets is handed to `push` at once, on the
    /// thread that delivers it (the sender's, or the one that primed the get),
    /// outside the port's lock, instead of waiting for a `getMessage`: for a
    /// client that forwards its messages elsewhere (a socket), no thread of
    /// its own has to be woken for each. The client takes the messages of lane `lane`.
    public func connect(context: [UInt8] = [], lane: Int = 0,
                        push: (@Sendable (PortMessage<Message>) -> Void)? = nil) throws(PortError) -> ClientPort<Message, Reply> {
        let (info, inbox) = try state.withLock { s throws(PortError) -> (ConnectionInfo, ClientInbox<Message>) in
            if s.closed { throw .portClosed }
            if s.connections.count >= maxConnections { throw .tooManyConnections(max: maxConnections) }
            precondition(lane >= 0 && lane < s.primedGets.count, "a client's lane must be one of the port's")
            let info = ConnectionInfo(id: s.nextConnectionId, context: context)
            s.nextConnectionId += 1
            let inbox = ClientInbox<Message>(connectionId: info.id, busy: busy, push: push)
            s.connections[info.id] = Connection(info: info, inbox: inbox, lane: lane)
            return (info, inbox)
        }
        return ClientPort(port: self, info: info, inbox: inbox)
    }

    func primeGet(from connection: UInt64) throws(PortError) {
        let delivery = try state.withLock { s throws(PortError) -> Delivery? in
            guard let inbox = s.connections[connection]?.inbox else { throw .disconnected }
            return prime(inbox, in: &s)
        }
        delivery?.run()
    }

    /// Takes the next message delivered to `connection`. A message settled
    /// (timed out) while it waited in the inbox is skipped and its get primed again.
    func takeDelivered(by connection: UInt64) -> InboxItem<Message> {
        var delivery: Delivery?
        let item = state.withLock { s -> InboxItem<Message> in
            guard let inbox = s.connections[connection]?.inbox else { return .disconnected }
            guard let id = inbox.delivered.popFirst() else { return .empty }
            if let p = s.pending[id] {
                let header = MessageHeader(replyLength: UInt32(clamping: p.replyCapacity), messageId: id)
                return .message(PortMessage(header: header, payload: p.message))
            }
            delivery = prime(inbox, in: &s)
            return .empty
        }
        delivery?.run()
        return item
    }

    func reply(_ header: ReplyHeader, _ reply: Reply, from connection: UInt64) throws(PortError) {
        let id = header.messageId
        let settled = try state.withLock { s throws(PortError) -> Pending in
            guard let p = s.pending[id], p.deliveredTo == connection else {
                throw .noWaiterForReply(messageId: id)
            }
            s.pending[id] = nil
            return p
        }
        timer.cancel(id)
        let outHeader = MessageHeader(replyLength: UInt32(clamping: settled.replyCapacity), messageId: id)
        if reply.byteCount > settled.replyCapacity {
            settled.onOutcome(outHeader, settled.message,
                              .replyTooLarge(byteCount: reply.byteCount, capacity: settled.replyCapacity))
        } else {
            settled.onOutcome(outHeader, settled.message, .replied(header, reply))
        }
    }

    /// A message of the client's whose deadline has passed ends timed out,
    /// as it would have a moment later: its outcome does not depend on which
    /// of the timer and the disconnect ran first.
    func disconnect(_ connection: UInt64) {
        var failed: [(UInt64, Pending, SendOutcome<Reply>)] = []
        let now = timer.clock.now()
        let gone = state.withLock { s -> Connection? in
            guard let conn = s.connections.removeValue(forKey: connection) else { return nil }
            for (id, p) in s.pending where p.deliveredTo == connection {
                failed.append((id, p, p.deadline <= now ? .timedOut(delivered: true) : .disconnected))
            }
            if s.connections.isEmpty {
                for (id, p) in s.pending where p.deliveredTo == nil {
                    failed.append((id, p, .noClient))
                }
                for lane in s.undelivered.indices {
                    s.undelivered[lane].removeAll()
                    s.primedGets[lane].removeAll()
                }
            } else if serves != nil || s.primedGets.count > 1 {
                // Waiting messages that no client left serves will never be delivered.
                for (id, p) in s.pending where p.deliveredTo == nil && !anyServes(p.message, in: s) {
                    failed.append((id, p, .noClient))
                }
            }
            for (id, _, _) in failed { s.pending[id] = nil }
            return conn
        }
        guard let gone else { return }
        gone.inbox.close()
        for (id, p, outcome) in failed {
            timer.cancel(id)
            p.onOutcome(MessageHeader(replyLength: UInt32(clamping: p.replyCapacity), messageId: id), p.message, outcome)
        }
    }

    // MARK: Internals

    private func expire(_ id: UInt64) {
        guard let p = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        p.onOutcome(MessageHeader(replyLength: UInt32(clamping: p.replyCapacity), messageId: id),
                    p.message, .timedOut(delivered: p.deliveredTo != nil))
    }

    /// What to do, once the lock is let go, for a message given to a client's get.
    private enum Delivery {
        /// Wake a thread of the client: the message is in its inbox.
        case wake(ClientInbox<Message>)
        /// Hand the message to the client's push callback.
        case push(@Sendable (PortMessage<Message>) -> Void, PortMessage<Message>)

        func run() {
            switch self {
            case .wake(let inbox): inbox.signal()
            case .push(let push, let message): push(message)
            }
        }
    }

    /// Gives pending message `id` to a get of `inbox`'s client.
    private static func deliver(_ id: UInt64, to inbox: ClientInbox<Message>, in s: State) -> Delivery {
        guard let push = inbox.push, let p = s.pending[id] else {
            inbox.delivered.append(id)
            return .wake(inbox)
        }
        let header = MessageHeader(replyLength: UInt32(clamping: p.replyCapacity), messageId: id)
        return .push(push, PortMessage(header: header, payload: p.message))
    }

    /// A new get from `inbox`: it takes the oldest waiting message still
    /// unanswered that it serves (returning its delivery), or waits among the primed gets.
    private func prime(_ inbox: ClientInbox<Message>, in s: inout State) -> Delivery? {
        let connection = s.connections[inbox.connectionId]!
        let lane = connection.lane
        if let serves {
            var index = s.undelivered[lane].startIndex
            while index < s.undelivered[lane].endIndex {
                let id = s.undelivered[lane][index]
                guard let p = s.pending[id] else { s.undelivered[lane].remove(at: index); continue }
                if serves(connection.info, p.message) {
                    s.undelivered[lane].remove(at: index)
                    s.pending[id]!.deliveredTo = inbox.connectionId
                    return Self.deliver(id, to: inbox, in: s)
                }
                index += 1
            }
        } else {
            while let id = s.undelivered[lane].popFirst() {
                guard s.pending[id] != nil else { continue }
                s.pending[id]!.deliveredTo = inbox.connectionId
                return Self.deliver(id, to: inbox, in: s)
            }
        }
        s.primedGets[lane].append(inbox.connectionId)
        return nil
    }

    /// The lane `message` goes in.
    private func lane(of message: Message, in s: State) -> Int {
        guard let lane else { return 0 }
        let n = lane(message)
        precondition(n >= 0 && n < s.primedGets.count, "a message's lane must be one of the port's")
        return n
    }

    /// The first primed get in `lane` of a connected client that serves `message`, if any.
    private func popPrimedGet(for message: Message, lane: Int, in s: inout State) -> ClientInbox<Message>? {
        guard let serves else {
            while let connection = s.primedGets[lane].popFirst() {
                if let inbox = s.connections[connection]?.inbox { return inbox }
            }
            return nil
        }
        var index = s.primedGets[lane].startIndex
        while index < s.primedGets[lane].endIndex {
            guard let connection = s.connections[s.primedGets[lane][index]] else {
                s.primedGets[lane].remove(at: index)
                continue
            }
            if serves(connection.info, message) {
                s.primedGets[lane].remove(at: index)
                return connection.inbox
            }
            index += 1
        }
        return nil
    }

    /// Whether a connected client of the message's lane serves it.
    private func anyServes(_ message: Message, in s: State) -> Bool {
        let lane = lane(of: message, in: s)
        return s.connections.values.contains { $0.lane == lane && (serves?($0.info, message) ?? true) }
    }

    /// Messages delivered to `connection` and not answered yet.
    public func unansweredCount(of connection: UInt64) -> Int {
        state.withLock { s in s.pending.values.reduce(0) { $0 + ($1.deliveredTo == connection ? 1 : 0) } }
    }
}
