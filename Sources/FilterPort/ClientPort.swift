import DequeModule
import Dispatch
import Glibc
import Synchronization

/// What a client's wait for a message found.
enum InboxItem<Message: Sendable> {
    case message(PortMessage<Message>)
    case empty
    case disconnected
}

/// The messages delivered to one client's primed gets. `delivered` is only
/// touched under the port's lock. A delivery wakes one waiting thread: while
/// deliveries come close together (see `ArrivalGap`), one waiting thread
/// spins a little before it sleeps, yielding the CPU to any thread that has
/// work, and a delivery handed to it costs no system call and no wake-up; any
/// other waiter sleeps on a semaphore that counts deliveries.
final class ClientInbox<Message: Sendable>: @unchecked Sendable {
    let connectionId: UInt64
    var delivered = Deque<UInt64>()
    private let available = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    /// 0: no thread spins; 1: one spins; 2: a delivery was handed to the spinning thread.
    private let spinner = Atomic<Int>(0)
    private let deliveries = ArrivalGap()

    init(connectionId: UInt64) { self.connectionId = connectionId }

    var isClosed: Bool { closed.load(ordering: .sequentiallyConsistent) }

    /// Wakes one waiting thread for one delivery: the spinning one if there is one, else a sleeper.
    func signal() {
        deliveries.arrived()
        if spinner.compareExchange(expected: 1, desired: 2, ordering: .acquiringAndReleasing).exchanged { return }
        available.signal()
    }

    /// Waits for a delivery; false when the deadline passed or the inbox closed.
    func wait(until deadline: DispatchTime) -> Bool {
        if spin(until: deadline) { return true }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        defer { sleepers.subtract(1, ordering: .sequentiallyConsistent) }
        if isClosed { return false }
        return available.wait(timeout: deadline) == .success && !isClosed
    }

    /// Spins while deliveries come close together, if no other thread
    /// spins; true when a delivery was handed over meanwhile.
    private func spin(until deadline: DispatchTime) -> Bool {
        let budget = deliveries.spinBudget
        guard budget > 0,
              spinner.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged
        else { return false }
        let end = min(DispatchTime.now().uptimeNanoseconds + budget, deadline.uptimeNanoseconds)
        while spinner.load(ordering: .acquiring) == 1 {
            if isClosed || DispatchTime.now().uptimeNanoseconds >= end {
                if spinner.compareExchange(expected: 1, desired: 0, ordering: .acquiringAndReleasing).exchanged {
                    return false
                }
                break  // handed over at the last moment
            }
            sched_yield()  // a thread that has work (an opener, the reader) runs first
        }
        spinner.store(0, ordering: .releasing)
        return true
    }

    /// Wakes every thread waiting in `wait`; they find the inbox closed.
    func close() {
        closed.store(true, ordering: .sequentiallyConsistent)
        for _ in 0..<sleepers.load(ordering: .sequentiallyConsistent) { available.signal() }
    }
}

/// The client side of a port connection (FilterConnectCommunicationPort's handle).
///
/// Prime gets with `prime(_:)`; each delivered message uses one get, and
/// `getMessage` returns them in delivery order to whichever thread waits.
/// Reply with `reply(_:status:_:)`, then prime again (the scanner sample's
/// re-armed FilterGetMessage). Safe to use from many threads.
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
