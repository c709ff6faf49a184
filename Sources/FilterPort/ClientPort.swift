import DequeModule
import Dispatch
import Glibc
import Synchronization

/// The client side of a port connection (FilterConnectCommunicationPort's handle).
///
/// Prime gets with `prime(_:)`; each delivered message uses one get, and
/// `getMessage` returns them in delivery order to whichever thread waits.
/// Reply with `reply(_:status:_:)`, then prime again (the scanner sample's
/// re-armed FilterGetMessage). Safe to use from many threads.
///
/// Wake-up policy, in one place: a delivery wakes one waiting thread, the
/// one spinning if any (while deliveries come close together, see
/// `ArrivalGap`), else a sleeper. A thread that sends on the port and also
/// serves this client (the agent's event reader, deciding in turn) takes its
/// own message with `sendAndTake` when no thread spins for it: no wake-up at
/// all, and no state another thread must later release.
public final class ClientPort<Message: PortPayload, Reply: PortPayload>: Sendable {
    public let info: ConnectionInfo
    private let port: FilterPort<Message, Reply>
    private let inbox: ClientInbox<Message>

    init(port: FilterPort<Message, Reply>, info: ConnectionInfo, inbox: ClientInbox<Message>) {
        self.port = port
        self.info = info
        self.inbox = inbox
    }

    deinit { port.disconnect(info.id) }

    /// How many of this client's threads wait in `getMessage` now (idle deciders).
    public var waitingThreads: Int { inbox.waitingThreads }

    /// Posts `count` gets (overlapped FilterGetMessage calls).
    public func prime(_ count: Int = 1) throws(PortError) {
        for _ in 0..<count { try port.primeGet(from: info.id) }
    }

    /// Waits for the next message delivered to this client's gets.
    /// Returns nil when `timeout` passes; throws `.disconnected` once disconnected.
    public func getMessage(timeout: Duration? = nil) throws(PortError) -> PortMessage<Message>? {
        let deadline = timeout.map(DispatchTime.after) ?? .distantFuture
        while true {
            switch port.takeDelivered(by: info.id) {
            case .message(let m): return m
            case .disconnected: throw .disconnected
            case .empty: break
            }
            if !inbox.wait(until: deadline) {
                if inbox.isClosed { throw .disconnected }
                if DispatchTime.now() >= deadline { return nil }
            }
        }
    }

    /// The next delivered message if one is there now; never waits.
    public func tryGetMessage() throws(PortError) -> PortMessage<Message>? {
        switch port.takeDelivered(by: info.id) {
        case .message(let m): return m
        case .disconnected: throw .disconnected
        case .empty: return nil
        }
    }

    /// FltSendMessage from a thread that also serves this client: `message`
    /// is sent exactly as `FilterPort.send` sends it (its deadline set,
    /// `onOutcome` its one settler) and, when a primed get of this client
    /// takes it and no thread of the client spins for it, it is returned: the
    /// caller now holds it as the client's thread that took it, and replies
    /// to it (or not: the deadline still ends it). Otherwise it is delivered
    /// or waits as any send's, and nil is returned.
    public func sendAndTake(_ message: Message, replyCapacity: Int, timeout: Duration,
                            onOutcome: @escaping FilterPort<Message, Reply>.OutcomeHandler) -> PortMessage<Message>? {
        port.send(message, replyCapacity: replyCapacity, timeout: timeout, takenBy: info.id, onOutcome: onOutcome).taken
    }

    /// FilterReplyMessage: answers message `messageId` with `status` and `payload`.
    public func reply(_ messageId: UInt64, status: Int32 = 0, _ payload: Reply) throws(PortError) {
        try port.reply(ReplyHeader(status: status, messageId: messageId), payload, from: info.id)
    }

    /// Closes this connection: its unanswered messages end `.disconnected` at
    /// once and every thread in `getMessage` returns. Idempotent.
    public func disconnect() { port.disconnect(info.id) }
}
