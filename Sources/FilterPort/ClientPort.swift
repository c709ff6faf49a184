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
/// Wake-up policy, in one place. A delivery wakes one waiting thread: the
/// one spinning, if any (while deliveries come close together, see
/// `ArrivalGap`), else a sleeper, except that a client that said how many
/// threads it runs (`setThreads`) has a delivery that comes while one of
/// them is at work left for that thread's next look (at most one such
/// delivery at a time). Guarantee, whatever the caller does: a delivered
/// message waits for a busy thread only until the next delivery (which
/// wakes a sleeper for both) or until the filter goes idle and calls
/// `FilterPort.releaseDeferred()` (which the filter must do before it waits
/// for more work of its own; fanfilter's event reader does). `willBeSlow()`
/// is an optimisation a thread may add before slow work: it hands the
/// waiting delivery on at once instead of at one of those two points.
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

    /// Says how many threads take this client's messages, so that a delivery
    /// that one of them, at work, will take next wakes no other (see ClientInbox).
    public func setThreads(_ count: Int) { inbox.threads.store(count, ordering: .relaxed) }

    /// Before slow work on a message (hashing a large file): lets a sleeping
    /// thread take a delivery that was left for this one now, rather than at
    /// the next delivery or when the filter goes idle (see the wake-up policy above).
    public func willBeSlow() { inbox.releaseDeferred() }

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
        var waited = false
        while true {
            switch port.takeDelivered(by: info.id) {
            case .message(let m):
                if !waited { inbox.tookWithoutWaiting() }
                return m
            case .disconnected: throw .disconnected
            case .empty: break
            }
            waited = true
            if !inbox.wait(until: deadline) {
                if inbox.isClosed { throw .disconnected }
                if DispatchTime.now() >= deadline { return nil }
            }
        }
    }

    /// The next delivered message if one is there now; never waits. A thread
    /// of the client that is at work (one `setThreads` counts) looks with it.
    public func tryGetMessage() throws(PortError) -> PortMessage<Message>? {
        switch port.takeDelivered(by: info.id) {
        case .message(let m):
            inbox.tookWithoutWaiting()
            return m
        case .disconnected: throw .disconnected
        case .empty: return nil
        }
    }

    /// FilterReplyMessage: answers message `messageId` with `status` and `payload`.
    public func reply(_ messageId: UInt64, status: Int32 = 0, _ payload: Reply) throws(PortError) {
        try port.reply(ReplyHeader(status: status, messageId: messageId), payload, from: info.id)
    }

    /// FilterSendMessage: a synchronous message to the filter's message-notify callback.
    public func sendToFilter(_ bytes: [UInt8]) throws(PortError) -> [UInt8] {
        try port.messageFromClient(bytes, connection: info.id)
    }

    /// Closes this connection: its unanswered messages end `.disconnected` at
    /// once and every thread in `getMessage` returns. Idempotent.
    public func disconnect() { port.disconnect(info.id) }
}
