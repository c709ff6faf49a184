import Clocks
import DequeModule
import Glibc
import PortProtocol
import PortTransport
import Synchronization
import SystemPackage

/// A client of fanfilter's socket port, with the in-process port's API
/// (FilterConnectCommunicationPort, FilterGetMessage, FilterReplyMessage,
/// FilterSendMessage): connect with a hello, prime gets, take messages,
/// reply by message id, send control requests; observers take decisions.
///
/// No thread of its own: a thread that waits for something reads the socket
/// itself and files each frame it gets (messages, decisions, control
/// replies, no-waiter notices) where its waiter looks. Threads waiting for a
/// message with no time limit (`getMessage()`, a decider's loop) all wait
/// in the receive at once, as a completion port's threads do: the kernel
/// wakes one of them for each frame, and no thread wakes another to read
/// on. Any other wait (`nextDecision`, `sendToFilter`, `noWaiterNotice`, a
/// `getMessage` with a timeout) reads only while no other thread reads, and
/// otherwise waits for the frame to be filed; the reader hands on to the
/// next when it returns. Any number of threads may call any method at once.
/// A fatal error from the agent, or the socket closing, ends every wait
/// with `.disconnected`.
public final class FilterPortClient: @unchecked Sendable {
    /// The connection's id on the agent's port (0 for observers and control connections).
    public let connectionId: UInt64
    public let hello: Hello
    private let socket: SeqPacketSocket
    private let nextRequest = Atomic<UInt32>(1)
    /// Guards `inbox`.
    private let condition = WaitCondition()
    private var inbox = Inbox()

    private struct Inbox {
        var messages = Deque<ClientMessage>()
        var decisions = Deque<DecisionRecord>()
        var controlReplies: [UInt32: ControlResult] = [:]
        /// The pieces of control answers still coming, by request id.
        var controlPieces: [UInt32: [UInt8]] = [:]
        var noWaiter = Deque<UInt64>()
        var ended: FilterPortClientError?
        /// A thread is reading the socket now, alone (a wait that is not an untimed `getMessage`).
        var reading = false
        /// Untimed `getMessage` calls in the receive now.
        var messageReaders = 0
        /// Threads waiting for another to file their frame.
        var waiting = 0
    }

    /// Connects to the agent's port at `path` and says hello; returns once
    /// the agent welcomed the connection, or throws why it did not.
    public init(path: String = PortLimits.defaultSocketPath, hello: Hello, timeout: Duration = .seconds(5)) throws(FilterPortClientError) {
        do { socket = try SeqPacketSocket(connectingTo: path) } catch { throw .transport(error) }
        self.hello = hello
        let deadline = SystemClock().deadline(after: timeout)
        do {
            // A peer the agent refuses at connect is told why before its hello: read that either way.
            do { try socket.send(ClientFrame.hello(hello).encode(), until: deadline) } catch {
                if !error.isEndOfStream { throw error }
            }
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
    }

    deinit {
        socket.shutdown()
        for m in inbox.messages where m.descriptor >= 0 { try? FileDescriptor(rawValue: m.descriptor).close() }
    }

    /// Posts `count` gets (overlapped FilterGetMessage calls): the agent sends one message per get.
    public func prime(_ count: Int = 1) throws(FilterPortClientError) {
        try send(.prime(count: UInt32(clamping: count)))
    }

    /// The next message delivered to this client's gets; nil when `timeout` passes.
    public func getMessage(timeout: Duration? = nil) throws(FilterPortClientError) -> ClientMessage? {
        try wait(timeout, alongsideOthers: timeout == nil) { $0.messages.popFirst() }
    }

    /// FilterReplyMessage: answers message `messageId`; with `primeAgain`, one
    /// more get is primed in the same frame (the re-armed FilterGetMessage of
    /// the scanner sample, at the cost of one write). A reply the agent had no
    /// waiter for (late, second, another client's message) changes nothing;
    /// the agent says so afterwards (`noWaiterNotice`).
    public func reply(_ messageId: UInt64, _ verdict: WireVerdict, status: Int32 = 0, primeAgain: Bool = false) throws(FilterPortClientError) {
        try send(ClientFrame.reply(messageId: messageId, verdict, status: status, primeAgain: primeAgain))
    }

    /// A reply with any payload (for tests of what the agent does with one it cannot use).
    public func reply(_ messageId: UInt64, status: Int32, payload: [UInt8]) throws(FilterPortClientError) {
        try send(.reply(status: status, messageId: messageId, payload: payload))
    }

    /// The next message id the agent said it had no waiter for; nil when `timeout` passes.
    public func noWaiterNotice(timeout: Duration? = nil) throws(FilterPortClientError) -> UInt64? {
        try wait(timeout) { $0.noWaiter.popFirst() }
    }

    /// An observer's next decision; nil when `timeout` passes.
    public func nextDecision(timeout: Duration? = nil) throws(FilterPortClientError) -> DecisionRecord? {
        try wait(timeout) { $0.decisions.popFirst() }
    }

    /// FilterSendMessage: a control request, answered by the agent.
    public func sendToFilter(_ command: ControlCommand, argument: [UInt8] = [], timeout: Duration = .seconds(60)) throws(FilterPortClientError) -> ControlResult {
        let id = nextRequest.add(1, ordering: .relaxed).newValue
        try send(.control(requestId: id, command: command.rawValue, argument: argument))
        guard let result = try wait(timeout, { $0.controlReplies.removeValue(forKey: id) }) else {
            throw .disconnected(nil, reason: "no answer to the control request within \(timeout)")
        }
        return result
    }

    /// Closes the connection: the agent answers this client's unanswered messages at once.
    public func disconnect() { socket.shutdown() }

    private func send(_ frame: ClientFrame) throws(FilterPortClientError) {
        condition.lock()
        let ended = inbox.ended
        condition.unlock()
        if let ended { throw ended }
        do { try socket.send(frame.encode()) } catch {
            throw error.isEndOfStream ? .disconnected(nil, reason: "the agent closed the connection") : .transport(error)
        }
    }

    /// Waits until `pick` finds something, reading the socket itself while no
    /// other thread does (`alongsideOthers`: also while other such waits do,
    /// in a blocking receive that the kernel wakes for one of them a frame);
    /// nil when `timeout` passes.
    private func wait<T>(_ timeout: Duration?, alongsideOthers: Bool = false, _ pick: (inout Inbox) -> T?) throws(FilterPortClientError) -> T? {
        let deadline = timeout.map { SystemClock().deadline(after: $0) }
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let item = pick(&inbox) { return item }
            if let ended = inbox.ended { throw ended }
            if alongsideOthers, !inbox.reading {
                inbox.messageReaders += 1
                condition.unlock()
                let frame = readFrame(until: nil)
                condition.lock()
                inbox.messageReaders -= 1
                guard let frame else { continue }
                if !file(frame) {
                    condition.broadcast()  // another waiter's frame
                } else if inbox.messageReaders == 0, inbox.waiting > 0 {
                    condition.signal()  // a waiter that reads alone may read now
                }
                continue
            }
            if inbox.reading || inbox.messageReaders > 0 {
                // Whoever reads files what comes, and says so.
                inbox.waiting += 1
                let woken = condition.wait(until: deadline)
                inbox.waiting -= 1
                if !woken { return pick(&inbox) }
                continue
            }
            inbox.reading = true
            condition.unlock()
            let frame = readFrame(until: deadline)
            condition.lock()
            inbox.reading = false
            guard let frame else {
                condition.signal()  // another waiter reads on
                return pick(&inbox)
            }
            file(frame)
            if let item = pick(&inbox) {
                condition.signal()  // the next reader, while this thread goes to work
                return item
            }
            condition.broadcast()  // it may be another waiter's
        }
    }

    /// What one read of the socket gave.
    private enum Frame {
        case agent(AgentFrame, descriptor: Int32)
        case end(FilterPortClientError)
    }

    private func readFrame(until deadline: UInt64?) -> Frame? {
        let received: SeqPacketSocket.Received
        do {
            guard let r = try socket.receive(capacity: PortLimits.maxAgentFrame, until: deadline) else { return nil }
            received = r
        } catch {
            return .end(error.isEndOfStream ? .disconnected(nil, reason: "the agent closed the connection") : .transport(error))
        }
        do { return .agent(try AgentFrame.decode(received.bytes), descriptor: received.descriptor) } catch {
            if received.descriptor >= 0 { try? FileDescriptor(rawValue: received.descriptor).close() }
            return .end(.badFrame(error))
        }
    }

    /// Files one frame where its waiter looks (the lock held); true when it was a message.
    @discardableResult
    private func file(_ frame: Frame) -> Bool {
        switch frame {
        case .end(let why):
            if inbox.ended == nil { inbox.ended = why }
            return false
        case .agent(let f, let descriptor):
            var kept = false
            switch f {
            case .message(let replyLength, let id, let event):
                inbox.messages.append(ClientMessage(replyLength: replyLength, messageId: id, event: event, descriptor: descriptor))
                kept = true
            case .decision(let record):
                inbox.decisions.append(record)
            case .controlReply(let id, let status, let body):
                let whole = (inbox.controlPieces.removeValue(forKey: id) ?? []) + body
                if status & PortLimits.morePieces != 0 {
                    inbox.controlPieces[id] = whole
                } else {
                    inbox.controlReplies[id] = ControlResult(error: status == 0 ? nil : PortErrorCode(rawValue: status) ?? .controlFailed,
                                                             body: String(decoding: whole, as: UTF8.self))
                }
            case .error(let code, let id, let text):
                if code == .noWaiter {
                    inbox.noWaiter.append(id)
                } else if code.isFatal, inbox.ended == nil {
                    inbox.ended = .disconnected(code, reason: text)
                }
            case .welcome, .refused:
                break
            }
            if !kept, descriptor >= 0 { try? FileDescriptor(rawValue: descriptor).close() }
            return kept
        }
    }
}
