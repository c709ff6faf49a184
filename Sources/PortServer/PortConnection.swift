import Clocks
import DequeModule
import Dispatch
import FilterPort
import Glibc
import Logging
import PortProtocol
import PortTransport
import Synchronization
import SystemPackage

/// One client of the socket port, from its hello to its end: this
/// connection's thread, and a pump. A message given to one of a decider's
/// primed gets is written to the socket at once, by the thread that
/// delivered it (no thread is woken for it); only when the socket has no
/// room does it wait, in order, for the pump, which writes it by its
/// deadline or ends the connection (`not-reading`). A decider's frames
/// (replies, primes) are taken by whoever takes the server's decider frames
/// (`PortServer.takeDeciderFrames`: the agent's event reader, which is awake
/// for the next event anyway), never waiting; what may wait (control
/// requests, a notice the socket has no room for) goes to this connection's
/// thread. An observer's or a control connection's thread reads its own
/// frames; an observer's pump writes its decisions. Any broken rule ends the
/// connection, once, with the reason sent to the client and logged.
final class PortConnection: @unchecked Sendable {
    let serial: UInt64
    let socket: SeqPacketSocket
    let peer: Peer
    private unowned let server: PortServer
    /// Set once, before the connection is seen by others as registered.
    private let helloBox = Mutex<Hello?>(nil)
    /// This decider's connection on the agent's port.
    private let client = Mutex<DeciderLink?>(nil)
    private let primed = Atomic<Int>(0)
    private let handled = Atomic<UInt64>(0)
    private let ended = Atomic<Bool>(false)
    /// The client closed its end (a quiet end, logged as a disconnect).
    private let closedByClient = Atomic<Bool>(false)
    /// A thread is taking this decider's frames (one at a time keeps them in order).
    private let taking = Atomic<Bool>(false)
    /// Where that thread receives them, made at the first take; only it touches it.
    private var takenFrames: ReceiveBatch?
    /// How many frames one receive takes at most.
    static let framesPerReceive = 8
    /// What this decider's connection thread is to do (control requests,
    /// notices that found no room), at most `maxWork`. While a notice waits
    /// for room, the decider's frames are left untaken: a decider is read no
    /// faster than it reads (its replies are still taken while a control
    /// request runs).
    private let work = Mutex(WorkQueue())
    private let workReady = DispatchSemaphore(value: 0)
    /// The frame that tells a decider why it was ended, sent by its thread before the socket shuts.
    private let farewell = Mutex<AgentFrame?>(nil)
    static let maxWork = 256

    private enum Work {
        case send(AgentFrame)
        case control(requestId: UInt32, command: UInt32, argument: [UInt8])
    }

    private struct WorkQueue {
        var items = Deque<Work>()
        /// How many of the items are notices waiting for room.
        var notices = 0
        /// Out of the server's frame set until the items are done.
        var paused = false
    }
    /// A decider's messages the socket had no room for, oldest first (the pump writes them).
    private let backlog = Mutex(Deque<Outbound>())
    private let backlogReady = DispatchSemaphore(value: 0)

    private struct Outbound: @unchecked Sendable {
        var frame: [UInt8]
        var descriptor: SharedDescriptor?
        var deadline: UInt64
    }

    init(serial: UInt64, socket: SeqPacketSocket, peer: Peer, server: PortServer) {
        self.serial = serial
        self.socket = socket
        self.peer = peer
        self.server = server
    }

    var hello: Hello? { helloBox.withLock { $0 } }
    var isEnded: Bool { ended.load(ordering: .acquiring) }
    var role: Role? { hello?.role }
    var isDecider: Bool { role == .decider }

    func registered(_ hello: Hello) { helloBox.withLock { $0 = hello } }

    func summary(port: DeciderPort?) -> ClientSummary? {
        guard let hello else { return nil }
        let id = client.withLock { $0?.id }
        return ClientSummary(name: hello.name, role: hello.role, pid: peer.pid, uid: peer.uid,
                             inFlight: id.flatMap { id in port.map { $0.unanswered(id) } } ?? 0,
                             primed: primed.load(ordering: .relaxed), handled: handled.load(ordering: .relaxed))
    }

    /// Control connections (`fanfilter status`, …) come and go: their comings are not worth a log line.
    private var quiet: Bool { role == .control }

    private var who: String {
        "client '\(hello?.name ?? "?")' (pid \(peer.pid), uid \(peer.uid))"
    }

    /// The connection's whole life, on its own thread.
    func serve() {
        defer { finish() }
        guard let hello = handshake() else { return }
        server.logger.log(level: quiet ? .debug : .info, "port: \(who) connected as \(hello.role)")
        if hello.role == .decider {
            server.watchFrames(of: self)
            doWork()
        } else {
            readFrames()
        }
    }

    private func handshake() -> Hello? {
        let deadline = SystemClock().deadline(after: server.access.handshakeTimeout)
        let frame: ClientFrame
        do {
            guard let received = try socket.receive(capacity: PortLimits.maxClientFrame + 1, until: deadline, stop: server.stopFD) else {
                end(.handshakeTimeout, "no hello within \(server.access.handshakeTimeout)")
                return nil
            }
            closeStray(received)
            if received.truncated { throw FrameError(.oversized, "a frame of \(received.length) bytes (at most \(PortLimits.maxClientFrame))") }
            frame = try ClientFrame.decode(received.bytes)
        } catch let error as FrameError {
            end(error.code, error.detail)
            return nil
        } catch {
            return nil  // gone before its hello
        }
        guard case .hello(let hello) = frame else {
            end(.badHandshake, "the first frame must be a hello")
            return nil
        }
        guard hello.version == PortLimits.version else {
            refuse(hello, .badVersion, "version \(hello.version) is not spoken here (the agent speaks \(PortLimits.version))")
            return nil
        }
        var portId: UInt64?
        if hello.role == .decider {
            guard let port = server.attachedPort else {
                refuse(hello, .tooManyConnections, "the agent takes no deciders (no port is attached)")
                return nil
            }
            do {
                let c = try port.connect(hello.name) { [weak self] in self?.write($0, $1) }
                portId = c.id
                client.withLock { $0 = c }
            } catch {
                refuse(hello, .tooManyConnections, "\(error) (max_connections \(server.access.maxDeciders))")
                return nil
            }
        }
        guard server.register(self, as: hello, portId: portId) else {
            refuse(hello, .tooManyConnections, "the port already has \(server.access.maxOthers) \(hello.role) connections")
            return nil
        }
        let welcome = AgentFrame.welcome(version: PortLimits.version, connectionId: portId ?? 0,
                                         maxFrame: UInt32(PortLimits.maxClientFrame), maxPrimed: UInt32(PortLimits.maxPrimed))
        do { try socket.send(welcome.encode(), until: deadline, stop: server.stopFD) } catch { return nil }
        switch hello.role {
        case .decider: server.spawn("fanfilter.port.pump") { [self] in pumpMessages() }
        case .observer:
            server.observers.add(serial, deniedOnly: hello.deniedOnly)
            server.spawn("fanfilter.port.pump") { [self] in pumpDecisions() }
        case .control: break
        }
        return hello
    }

    private func readFrames() {
        while !ended.load(ordering: .acquiring) {
            let frame: ClientFrame
            do {
                // Blocks in the receive itself: the server's stop ends the connection (a shutdown), which ends it.
                guard let received = try socket.receive(capacity: PortLimits.maxClientFrame + 1) else {
                    return end(.shuttingDown, "the agent is stopping")
                }
                closeStray(received)
                if received.truncated { throw FrameError(.oversized, "a frame of \(received.length) bytes (at most \(PortLimits.maxClientFrame))") }
                frame = try ClientFrame.decode(received.bytes)
                try take(frame)
            } catch let error as FrameError {
                return end(error.code, error.detail)
            } catch {
                return  // the client closed its end
            }
        }
    }

    /// Takes the frames waiting on this decider's socket, at most `budget`,
    /// never waiting (`PortServer.takeDeciderFrames`), several with each
    /// system call. A thread that finds another one taking them leaves them to it.
    func takeWaitingFrames(budget: Int) {
        guard !taking.exchange(true, ordering: .acquiring) else { return }
        defer { taking.store(false, ordering: .releasing) }
        let batch = takenFrames ?? ReceiveBatch(capacity: Self.framesPerReceive, frameCapacity: PortLimits.maxClientFrame + 1)
        takenFrames = batch
        var left = budget
        while left > 0, !ended.load(ordering: .acquiring) {
            let behind = work.withLock { w -> Bool in
                guard w.notices > 0 else { return false }
                if !w.paused {
                    w.paused = true
                    server.unwatchFrames(of: self)
                }
                return true
            }
            if behind { return }  // taken again once this connection's thread has caught up
            let count: Int
            do { count = try socket.tryReceive(into: batch, limit: left) } catch {
                closedByClient.store(true, ordering: .releasing)  // the client's end is gone (reset)
                return end(nil, "")
            }
            // A descriptor a client sent is never kept: all closed now, also those after a frame that ends it.
            batch.closeDescriptors()
            for i in 0..<count where !ended.load(ordering: .acquiring) {
                let received = batch[i]
                if received.length == 0 {  // the client closed its end
                    closedByClient.store(true, ordering: .releasing)
                    return end(nil, "")
                }
                do throws(FrameError) {
                    if received.truncated { throw FrameError(.oversized, "a frame of \(received.length) bytes (at most \(PortLimits.maxClientFrame))") }
                    try take(try ClientFrame.decode(received.bytes))
                } catch {
                    return end(error.code, error.detail)
                }
            }
            if count < min(left, batch.capacity) { return }  // none left waiting
            left -= count
        }
    }

    /// A decider's thread: control requests and the notices that had to wait, until the end.
    private func doWork() {
        while true {
            workReady.wait()
            while !ended.load(ordering: .acquiring), let item = work.withLock({ $0.items.first }) {
                switch item {
                case .send(let frame): deliver(frame)
                case .control(let requestId, let command, let argument): answerControl(requestId, command, argument)
                }
                // Done only now: a notice counts as waiting until it is out.
                work.withLock { w in
                    if case .send = w.items.removeFirst() { w.notices -= 1 }
                }
            }
            work.withLock { w in
                if w.notices == 0, w.paused, !ended.load(ordering: .acquiring) {
                    w.paused = false
                    server.watchFrames(of: self)
                }
            }
            guard ended.load(ordering: .acquiring) else { continue }
            if let frame = farewell.withLock({ $0.take() }) { sendWaiting(frame) }
            socket.shutdown()
            return
        }
    }

    private func take(_ frame: ClientFrame) throws(FrameError) {
        switch frame {
        case .hello:
            throw FrameError(.badHandshake, "a second hello")
        case .prime(let count):
            guard let c = client.withLock({ $0 }) else { throw FrameError(.wrongRole, "only a decider primes gets") }
            try prime(count, on: c)
        case .reply(let status, let id, let payload, let primeAgain):
            guard let c = client.withLock({ $0 }) else { throw FrameError(.wrongRole, "only a decider replies") }
            if payload.count <= PortLimits.replyPayloadSize, status == 0, ClientFrame.verdict(of: payload) == nil {
                throw FrameError(.malformed, "reply to message \(id): the payload must be a verdict (u32 1 allow, 2 deny)")
            }
            do {
                try c.reply(id, status, ClientReply(payload: payload, client: helloBox.withLock { $0?.name } ?? "?"))
                handled.add(1, ordering: .relaxed)
            } catch {
                try notify(.error(.noWaiter, messageId: id, reason: "no waiter is present for the reply to message \(id) (late, already answered, or not sent to this client)"))
            }
            if primeAgain { try prime(1, on: c) }
        case .control(let requestId, let raw, let argument):
            // A request may take a while (a reload): a decider's waits for its own thread.
            if isDecider { try queue(.control(requestId: requestId, command: raw, argument: argument)) } else {
                answerControl(requestId, raw, argument)
            }
        }
    }

    /// Primes `count` more gets of this decider's, within `PortLimits.maxPrimed`.
    private func prime(_ count: UInt32, on c: DeciderLink) throws(FrameError) {
        let now = primed.add(Int(count), ordering: .relaxed).newValue
        guard now <= PortLimits.maxPrimed else {
            throw FrameError(.tooManyPrimed, "\(now) gets primed (at most \(PortLimits.maxPrimed))")
        }
        do { try c.prime(Int(count)) } catch { throw FrameError(.shuttingDown, "\(error)") }
    }

    /// Answers one control request, on the thread that may wait for it.
    private func answerControl(_ requestId: UInt32, _ raw: UInt32, _ argument: [UInt8]) {
        guard let command = ControlCommand(rawValue: raw) else {
            return deliver(.controlReply(requestId: requestId, status: PortErrorCode.unknownCommand.rawValue,
                                         body: Array("unknown command \(raw)".utf8)))
        }
        let handler = server.control.withLock { $0 }
        let answer = handler?(command, argument) ?? .failed("the agent takes no control requests yet")
        // A longer answer (the metrics of a policy with thousands of rules) goes in pieces.
        let status = answer.error?.rawValue ?? 0
        let piece = PortLimits.maxAgentFrame - 12
        var start = 0
        repeat {
            let end = min(start + piece, answer.body.count)
            let more = end < answer.body.count
            deliver(.controlReply(requestId: requestId, status: status | (more ? PortLimits.morePieces : 0),
                                  body: Array(answer.body[start..<end])))
            start = end
        } while start < answer.body.count && !ended.load(ordering: .acquiring)
    }

    /// Puts a task on this decider's thread; a client that lets them pile up is ended.
    private func queue(_ item: Work) throws(FrameError) {
        let count = work.withLock { w -> Int in
            w.items.append(item)
            if case .send = item { w.notices += 1 }
            return w.items.count
        }
        guard count <= Self.maxWork else {
            throw FrameError(.notReading, "it left \(count) notices and control answers unread")
        }
        workReady.signal()
    }

    /// A message given to one of this decider's gets (the port's push): written
    /// now if the socket has room and nothing waits before it, else queued for the pump.
    private func write(_ header: MessageHeader, _ m: WireMessage) {
        primed.subtract(1, ordering: .relaxed)
        let out = Outbound(frame: AgentFrame.message(replyLength: header.replyLength, messageId: header.messageId,
                                                     event: m.event).encode(),
                           descriptor: m.descriptor, deadline: m.deadline)
        var failed = false
        let queued = backlog.withLock { q -> Bool in
            if q.isEmpty {
                do { if try socket.trySend(out.frame, passing: out.descriptor?.fd ?? -1) { return false } } catch {
                    failed = true
                    return false
                }
            }
            q.append(out)
            return true
        }
        if failed { end(nil, "") } else if queued { backlogReady.signal() }
    }

    /// Writes the messages the socket had no room for, each by its deadline.
    private func pumpMessages() {
        while !ended.load(ordering: .acquiring) {
            backlogReady.wait()
            while let next = backlog.withLock({ $0.first }) {
                do {
                    try socket.send(next.frame, passing: next.descriptor?.fd ?? -1, until: next.deadline, stop: server.stopFD)
                } catch {
                    // That message's deadline has passed: the port answers it, and every other
                    // of the client's past its own, timed out; the rest disconnected.
                    if error.errno == .timedOut {
                        end(.notReading, "it left its messages unread until one found no room by its deadline")
                    } else {
                        end(nil, "")
                    }
                    return
                }
                backlog.withLock { _ = $0.popFirst() }
            }
        }
    }

    /// Writes an observer's decisions as they come; it may fall behind (and lose some), never slow the agent.
    private func pumpDecisions() {
        while let record = server.observers.next(for: serial) {
            do { try socket.send(AgentFrame.decision(record).encode(), stop: server.stopFD) } catch { return end(nil, "") }
            handled.add(1, ordering: .relaxed)
        }
    }

    /// A notice to a decider, from the thread that takes its frames: written
    /// now when the socket has room and nothing waits before it, else left to
    /// the connection's thread.
    private func notify(_ frame: AgentFrame) throws(FrameError) {
        let sent = work.withLock { w in w.notices == 0 && ((try? socket.trySend(frame.encode())) ?? false) }
        if !sent { try queue(.send(frame)) }
    }

    /// Sends a notice or a control answer, waiting up to a second for room (on
    /// a thread that may wait); a client that leaves it unread that long is ended.
    private func deliver(_ frame: AgentFrame) {
        do { try socket.send(frame.encode(), until: SystemClock().now() + 1_000_000_000, stop: server.stopFD) } catch {
            if error.errno == .timedOut { end(.notReading, "it left a notice or a control answer unread for a second") } else { end(nil, "") }
        }
    }

    /// Sends a frame, waiting up to a second for room: on a thread that may wait.
    private func sendWaiting(_ frame: AgentFrame) {
        try? socket.send(frame.encode(), until: SystemClock().now() + 1_000_000_000, stop: server.stopFD)
    }

    /// A descriptor a client sent is never kept.
    private func closeStray(_ received: SeqPacketSocket.Received) {
        if received.descriptor >= 0 { try? FileDescriptor(rawValue: received.descriptor).close() }
    }

    /// Refuses a client whose hello was read: logged with the name it gave.
    private func refuse(_ hello: Hello, _ code: PortErrorCode, _ reason: String) {
        sendWaiting(.refused(code, reason: reason))
        server.problems.warning("port: refused client '\(hello.name)' (pid \(peer.pid), uid \(peer.uid)): \(reason)")
        end(nil, "")
    }

    /// Ends the connection once: tells the client why (a code), logs it, and
    /// fails its unanswered messages at once. Safe from any thread.
    func end(_ code: PortErrorCode?, _ reason: String) {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let frame = code.map { AgentFrame.error($0, messageId: 0, reason: reason) }
        if let code, code != .shuttingDown { server.problems.warning("port: \(who) disconnected: \(code): \(reason)") }
        client.withLock { $0 }?.disconnect()
        server.observers.remove(serial)
        backlogReady.signal()
        if isDecider {
            // Whoever ended it may not wait (the event reader): the decider's thread says why, then shuts the socket.
            server.unwatchFrames(of: self)
            farewell.withLock { $0 = frame }
            workReady.signal()
        } else {
            if let frame { sendWaiting(frame) }
            socket.shutdown()
        }
    }

    /// After the reader's last frame: ends the connection, waits for its pump, lets the socket go.
    private func finish() {
        let quietEnd = hello != nil && (!ended.load(ordering: .acquiring) || closedByClient.load(ordering: .acquiring))
        end(nil, "")
        if quietEnd { server.logger.log(level: quiet ? .debug : .info, "port: \(who) disconnected") }
        socket.shutdown()
        server.unregister(self, portId: client.withLock { $0?.id })
        client.withLock { $0 = nil }
        backlog.withLock { $0.removeAll() }
    }
}
