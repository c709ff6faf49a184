import Clocks
import DequeModule
import Dispatch
import Glibc
import PortProtocol
import PortTransport
import Synchronization

/// A client of fanfilter's socket port, with the in-process port's API
/// (FilterConnectCommunicationPort, FilterGetMessage, FilterReplyMessage,
/// FilterSendMessage): connect with a hello, prime gets, take messages,
/// reply by message id, send control requests; observers take decisions.
///
/// One reader thread takes every frame the agent sends and files it:
/// messages for `getMessage`, decisions for `nextDecision`, control replies
/// for the request waiting on them, no-waiter notices for `noWaiterNotices`.
/// So any number of threads may call any method at once. A fatal error from
/// the agent, or the socket closing, ends every wait with `.disconnected`.
public final class FilterPortClient: Sendable {
    /// The connection's id on the agent's port (0 for observers and control connections).
    public let connectionId: UInt64
    public let hello: Hello
    private let channel: Channel
    private var socket: SeqPacketSocket { channel.socket }
    private var messagesReady: DispatchSemaphore { channel.messagesReady }
    private var decisionsReady: DispatchSemaphore { channel.decisionsReady }
    private var controlReady: DispatchSemaphore { channel.controlReady }
    private var noticesReady: DispatchSemaphore { channel.noticesReady }
    private let nextRequest = Atomic<UInt32>(1)

    /// What the reader thread shares with the client's callers; the reader
    /// holds this, not the client, so a client let go of disconnects.
    private final class Channel: Sendable {
        let socket: SeqPacketSocket
        let inbox = Mutex(Inbox())
        let messagesReady = DispatchSemaphore(value: 0)
        let decisionsReady = DispatchSemaphore(value: 0)
        let controlReady = DispatchSemaphore(value: 0)
        let noticesReady = DispatchSemaphore(value: 0)
        init(_ socket: SeqPacketSocket) { self.socket = socket }
    }

    private struct Inbox {
        var messages = Deque<ClientMessage>()
        var decisions = Deque<DecisionRecord>()
        var controlReplies: [UInt32: ControlResult] = [:]
        var noWaiter = Deque<UInt64>()
        var ended: FilterPortClientError?
        var controlWaiters = 0
    }

    /// Connects to the agent's port at `path` and says hello; returns once
    /// the agent welcomed the connection, or throws why it did not.
    public init(path: String = PortLimits.defaultSocketPath, hello: Hello, timeout: Duration = .seconds(5)) throws(FilterPortClientError) {
        let socket: SeqPacketSocket
        do { socket = try SeqPacketSocket(connectingTo: path) } catch { throw .transport(error) }
        channel = Channel(socket)
        self.hello = hello
        let deadline = SystemClock().deadline(after: timeout)
        do {
            try socket.send(ClientFrame.hello(hello).encode(), until: deadline)
            guard let received = try socket.receive(capacity: PortLimits.maxAgentFrame, until: deadline) else {
                throw FilterPortClientError.disconnected(nil, reason: "no answer to the hello within \(timeout)")
            }
            switch try AgentFrame.decode(received.bytes) {
            case .welcome(_, let id, _, _): connectionId = id
            case .refused(let code, let reason): throw FilterPortClientError.refused(code, reason: reason)
            case .error(let code, _, let reason): throw FilterPortClientError.refused(code, reason: reason)
            default: throw FilterPortClientError.disconnected(nil, reason: "the agent did not answer the hello with a welcome")
            }
        } catch let error as FilterPortClientError {
            throw error
        } catch let error as TransportError {
            throw error.isEndOfStream ? .disconnected(nil, reason: "the agent closed the connection") : .transport(error)
        } catch let error as FrameError {
            throw .badFrame(error)
        } catch {
            throw .disconnected(nil, reason: "\(error)")
        }
        DispatchQueue(label: "fanfilter.client.reader").async { [channel] in Self.readFrames(channel) }
    }

    deinit { channel.socket.shutdown() }

    /// Posts `count` gets (overlapped FilterGetMessage calls): the agent sends one message per get.
    public func prime(_ count: Int = 1) throws(FilterPortClientError) {
        try send(.prime(count: UInt32(clamping: count)))
    }

    /// The next message delivered to this client's gets; nil when `timeout` passes.
    public func getMessage(timeout: Duration? = nil) throws(FilterPortClientError) -> ClientMessage? {
        try take(\.messages, ready: messagesReady, timeout: timeout)
    }

    /// FilterReplyMessage: answers message `messageId`. A reply the agent had
    /// no waiter for (late, second, another client's message) changes nothing;
    /// the agent says so afterwards, in `noWaiterNotices`.
    public func reply(_ messageId: UInt64, _ verdict: WireVerdict, status: Int32 = 0) throws(FilterPortClientError) {
        try send(ClientFrame.reply(messageId: messageId, verdict, status: status))
    }

    /// A reply with any payload (for tests of what the agent does with one it cannot use).
    public func reply(_ messageId: UInt64, status: Int32, payload: [UInt8]) throws(FilterPortClientError) {
        try send(.reply(status: status, messageId: messageId, payload: payload))
    }

    /// The next message id the agent said it had no waiter for; nil when `timeout` passes.
    public func noWaiterNotice(timeout: Duration? = nil) throws(FilterPortClientError) -> UInt64? {
        try take(\.noWaiter, ready: noticesReady, timeout: timeout)
    }

    /// An observer's next decision; nil when `timeout` passes.
    public func nextDecision(timeout: Duration? = nil) throws(FilterPortClientError) -> DecisionRecord? {
        try take(\.decisions, ready: decisionsReady, timeout: timeout)
    }

    /// FilterSendMessage: a control request, answered by the agent.
    public func sendToFilter(_ command: ControlCommand, argument: [UInt8] = [], timeout: Duration = .seconds(60)) throws(FilterPortClientError) -> ControlResult {
        let id = nextRequest.add(1, ordering: .relaxed).newValue
        channel.inbox.withLock { $0.controlWaiters += 1 }
        defer { channel.inbox.withLock { $0.controlWaiters -= 1 } }
        try send(.control(requestId: id, command: command.rawValue, argument: argument))
        let deadline = SystemClock().deadline(after: timeout)
        while true {
            let found = channel.inbox.withLock { i -> Result<ControlResult?, FilterPortClientError> in
                if let r = i.controlReplies.removeValue(forKey: id) { return .success(r) }
                if let ended = i.ended { return .failure(ended) }
                return .success(nil)
            }
            switch found {
            case .success(let r?): return r
            case .failure(let e): throw e
            case .success(nil): break
            }
            guard SystemClock().wait(controlReady, until: deadline) else {
                throw .disconnected(nil, reason: "no answer to the control request within \(timeout)")
            }
        }
    }

    /// Closes the connection: the agent answers this client's unanswered messages at once.
    public func disconnect() { socket.shutdown() }

    private func send(_ frame: ClientFrame) throws(FilterPortClientError) {
        if let ended = channel.inbox.withLock({ $0.ended }) { throw ended }
        do { try socket.send(frame.encode()) } catch {
            throw error.isEndOfStream ? .disconnected(nil, reason: "the agent closed the connection") : .transport(error)
        }
    }

    private func take<T: Sendable>(_ queue: WritableKeyPath<Inbox, Deque<T>> & Sendable, ready: DispatchSemaphore,
                         timeout: Duration?) throws(FilterPortClientError) -> T? {
        let deadline = timeout.map { SystemClock().deadline(after: $0) }
        while true {
            let found = channel.inbox.withLock { i -> Result<T?, FilterPortClientError> in
                if let item = i[keyPath: queue].popFirst() { return .success(item) }
                if let ended = i.ended { return .failure(ended) }
                return .success(nil)
            }
            switch found {
            case .success(let item?): return item
            case .failure(let e): throw e
            case .success(nil): break
            }
            guard SystemClock().wait(ready, until: deadline) else { return nil }
        }
    }

    private static func readFrames(_ c: Channel) {
        let socket = c.socket
        let messagesReady = c.messagesReady, decisionsReady = c.decisionsReady
        let controlReady = c.controlReady, noticesReady = c.noticesReady
        var reason = FilterPortClientError.disconnected(nil, reason: "the agent closed the connection")
        defer {
            c.inbox.withLock { if $0.ended == nil { $0.ended = reason } }
            // Every waiter wakes and finds the connection ended.
            for _ in 0..<64 { messagesReady.signal(); decisionsReady.signal(); controlReady.signal(); noticesReady.signal() }
        }
        while true {
            let received: SeqPacketSocket.Received
            do {
                guard let r = try socket.receive(capacity: PortLimits.maxAgentFrame) else { continue }
                received = r
            } catch {
                if !error.isEndOfStream { reason = .transport(error) }
                return
            }
            let frame: AgentFrame
            do { frame = try AgentFrame.decode(received.bytes) } catch {
                if received.descriptor >= 0 { close(received.descriptor) }
                reason = .badFrame(error)
                return
            }
            switch frame {
            case .message(let replyLength, let id, let event):
                let m = ClientMessage(replyLength: replyLength, messageId: id, event: event, descriptor: received.descriptor)
                c.inbox.withLock { $0.messages.append(m) }
                messagesReady.signal()
                continue
            case .decision(let record):
                c.inbox.withLock { $0.decisions.append(record) }
                decisionsReady.signal()
            case .controlReply(let id, let status, let body):
                let result = ControlResult(error: status == 0 ? nil : PortErrorCode(rawValue: status) ?? .controlFailed,
                                           body: String(decoding: body, as: UTF8.self))
                let waiters = c.inbox.withLock { i -> Int in
                    i.controlReplies[id] = result
                    return i.controlWaiters
                }
                for _ in 0..<max(1, waiters) { controlReady.signal() }
            case .error(let code, let id, let text):
                if code == .noWaiter {
                    c.inbox.withLock { $0.noWaiter.append(id) }
                    noticesReady.signal()
                } else if code.isFatal {
                    reason = .disconnected(code, reason: text)
                    return
                }
            case .welcome, .refused:
                break
            }
            if received.descriptor >= 0 { close(received.descriptor) }
        }
    }
}
