import Clocks
import CPortSocket
import Dispatch
import FilterPort
import Glibc
import Logging
import PortProtocol
import PortTransport
import Synchronization
import SystemCall
import SystemPackage

/// The port's other end: a SOCK_SEQPACKET Unix socket through which client
/// programs in any language decide `ask` events, watch decisions and send
/// control requests (docs/port-protocol.md).
///
/// It holds no port of its own: each decider is a connection of the agent's
/// one `FilterPort` (`attach`), in the deciders' lane.
///
/// Guarantees, whatever a client sends or fails to send: every message the
/// agent sends its deciders ends in exactly one outcome within its timeout
/// (the `FilterPort` contract: a client that disconnects, breaks the
/// protocol or stops reading fails its unanswered messages at once); a
/// client may reply only to messages delivered to it; each connection holds
/// bounded memory (a receive buffer of `PortConnection.framesPerReceive`
/// frames, at most `PortLimits.maxPrimed` gets, `ObserverFeed.capacity`
/// entries); only root and `port_group` connect; and
/// every broken connection is logged with the client's name, pid and uid.
public final class PortServer: Sendable {
    public typealias ControlHandler = @Sendable (ControlCommand, [UInt8]) -> ControlAnswer

    /// The agent's port, where deciders connect (nil until `attach`: deciders are refused).
    private let deciderPort = Mutex<DeciderPort?>(nil)
    /// Decisions for the observer connections.
    public let observers = ObserverFeed()
    let access: PortAccess
    let logger: Logger
    /// Warnings about clients, rate-limited.
    let problems: ClientProblemLog
    let control: Mutex<ControlHandler?>
    private let listener: Int32
    /// Readable once the server stops (a pipe whose write end is closed then): every connection's waits end.
    let stopFD: Int32
    private let stopWriter = Mutex<Int32>(-1)
    private let threads = DispatchGroup()
    private let registry = Mutex(Registry())
    /// The deciders' hellos, for the agent's port's `serves` in the deciders' lane.
    public let services = DeciderServices()
    /// An epoll set of the deciders' sockets: readable while a decider's frame
    /// waits to be taken. The server has no thread for it: whoever runs the
    /// loop the port is part of (the agent's event reader) polls it and calls
    /// `takeDeciderFrames()`.
    public let deciderFramesFD: Int32
    /// Deciders whose frames are taken now (a paused one is not counted).
    private let deciders = Atomic<Int>(0)
    /// Deciders registered, from their hello (before their welcome) to their end.
    private let registeredDeciders = Atomic<Int>(0)

    struct Registry {
        var nextSerial: UInt64 = 1
        var connections: [UInt64: PortConnection] = [:]
        var stopped = false
    }

    /// Listens at `access.path` (a stale socket there is replaced; a folder
    /// that holds it is made 0755 if missing). Accepting begins with `start()`.
    public init(access: PortAccess, logger: Logger) throws(SystemCallError) {
        self.access = access
        self.logger = logger
        self.problems = ClientProblemLog(logger: logger)
        self.control = Mutex(nil)
        if let slash = access.path.lastIndex(of: "/"), slash != access.path.startIndex {
            // One that exists is kept as it is; one that cannot be made fails the listen below.
            _ = try? systemCall("mkdir") { mkdir(String(access.path[..<slash]), 0o755) }
        }
        // A socket that answers belongs to an agent that runs: never take it over.
        if let live = try? SeqPacketSocket(connectingTo: access.path) {
            live.close()
            throw SystemCallError("listen at \(access.path) (another fanfilter is listening there)", .addressInUse)
        }
        let listener = FileDescriptor(rawValue: try shimCall("listen at \(access.path)") {
            cport_listen(access.path, access.mode, access.group.map(Int32.init(bitPattern:)) ?? -1, 64)
        })
        do throws(SystemCallError) {
            let stop: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
            do { stop = try FileDescriptor.pipe(options: .closeOnExec) } catch { throw SystemCallError("pipe (for the port's stop)", error) }
            do { deciderFramesFD = try shimCall("epoll_create1 (the deciders' frames)") { cport_ready_set_create() } } catch {
                try? stop.readEnd.close()
                try? stop.writeEnd.close()
                throw error
            }
            stopFD = stop.readEnd.rawValue
            stopWriter.withLock { $0 = stop.writeEnd.rawValue }
        } catch {
            try? listener.close()
            Self.removeSocketFile(access.path)
            throw error
        }
        self.listener = listener.rawValue
    }

    deinit {
        for fd in [deciderFramesFD, listener, stopFD] { try? FileDescriptor(rawValue: fd).close() }
        stopWriter.withLock { if $0 >= 0 { try? FileDescriptor(rawValue: $0).close() } }
    }

    /// Removes the socket's file (gone already is fine).
    private static func removeSocketFile(_ path: String) {
        _ = try? systemCall("unlink \(path)") { unlink(path) }
    }

    /// Connects the deciders to the agent's port from now on (before `start()`).
    public func attach(_ port: DeciderPort) { deciderPort.withLock { $0 = port } }

    /// The agent's port, when attached.
    var attachedPort: DeciderPort? { deciderPort.withLock { $0 } }

    /// Sets what answers control requests (status, reload, …); until then they fail.
    public func onControl(_ handler: @escaping ControlHandler) { control.withLock { $0 = handler } }

    /// Starts accepting connections, on a thread of its own.
    public func start() {
        DispatchQueue(label: "fanfilter.port.accept").async(group: threads) { [self] in acceptLoop() }
    }

    /// The most decider connections at once (`max_connections`).
    public var maxDeciders: Int { access.maxDeciders }

    /// Whether a decider is connected (no frame of one can wait otherwise).
    public var hasDeciders: Bool { deciders.load(ordering: .relaxed) > 0 }

    /// Takes the frames waiting on the deciders' sockets (replies, primes): at
    /// most `budget` of each connection a call. Never waits: what may wait is
    /// left to each connection's thread. Safe from any thread.
    public func takeDeciderFrames(budget: Int = 16) {
        var serials = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &serials) { raw in
            let keys = raw.bindMemory(to: UInt64.self)
            let n = cport_ready_set_poll(deciderFramesFD, keys.baseAddress, Int32(keys.count))
            // One connection looked up at a time (no array of them built on every reply), the lock
            // never held while its frames are taken.
            for key in keys.prefix(max(0, Int(n))) {
                registry.withLock { $0.connections[key] }?.takeWaitingFrames(budget: budget)
            }
        }
    }

    /// Runs `body` each time `fd` is readable, until the server stops.
    private func whileReadable(_ fd: Int32, _ body: () -> Void) {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            guard (try? Poll.wait(&fds, milliseconds: -1)) != nil else { return }
            if fds[1].revents != 0 { return }
            body()
        }
    }

    /// A decider's frames are taken from now on (after its welcome).
    func watchFrames(of connection: PortConnection) {
        if cport_ready_set_add(deciderFramesFD, connection.socket.fd, connection.serial) == 0 {
            deciders.add(1, ordering: .relaxed)
            // Ended meanwhile (the server stopping): its own removal may have come first.
            if connection.isEnded { unwatchFrames(of: connection) }
        } else {
            connection.end(nil, "")
        }
    }

    /// A decider's frames are no longer taken (it ended).
    func unwatchFrames(of connection: PortConnection) {
        if cport_ready_set_remove(deciderFramesFD, connection.socket.fd) == 0 {
            deciders.subtract(1, ordering: .relaxed)
        }
    }

    /// Closes the socket (its file is removed), disconnects every client (their
    /// unanswered messages end at once) and waits for the server's threads.
    public func stop() {
        let connections = registry.withLock { r -> [PortConnection] in
            r.stopped = true
            return Array(r.connections.values)
        }
        stopWriter.withLock { w in
            if w >= 0 { try? FileDescriptor(rawValue: w).close() }
            w = -1
        }
        for connection in connections { connection.end(.shuttingDown, "the agent is stopping") }
        threads.wait()
        Self.removeSocketFile(access.path)
    }

    /// The connected clients, deciders first.
    public var clients: [ClientSummary] {
        // Read outside the registry's lock: the port's lock is taken before it, never after.
        let port = attachedPort
        return registry.withLock { Array($0.connections.values) }.compactMap { $0.summary(port: port) }
            .sorted { ($0.role.rawValue, $0.name) < ($1.role.rawValue, $1.name) }
    }

    /// Whether `pid` is the process of a connected decider: its own opens are
    /// never sent to a client (it would wait on itself). The decider's pidfd
    /// tells a live process from a later one that reused its pid.
    public func isDeciderProcess(_ pid: Int32) -> Bool {
        guard registeredDeciders.load(ordering: .acquiring) > 0 else { return false }
        return registry.withLock { r in r.connections.values.contains { $0.isDecider && $0.peer.isProcess(pid) } }
    }

    private func acceptLoop() {
        whileReadable(listener) { [self] in
            let fd = cport_accept(listener)
            guard fd >= 0 else {
                if -fd == EMFILE || -fd == ENFILE {
                    logger.error("port: cannot accept a client: out of file descriptors")
                    usleep(100_000)
                }
                return
            }
            admit(SeqPacketSocket(adopting: fd))
        }
    }

    /// Checks the peer, then serves it on a thread of its own.
    private func admit(_ socket: SeqPacketSocket) {
        guard let peer = Peer(socket.fd) else { return }
        if let refusal = refusal(of: peer, on: socket) {
            problems.warning("port: refused a connection from pid \(peer.pid) (uid \(peer.uid)): \(refusal.detail)")
            // Its hello is read first (a second at most, on a thread of its own): a socket closed
            // with unread data resets the connection, and the refusal would be lost to the client.
            spawn("fanfilter.port.refuse") { [stopFD] in
                let deadline = SystemClock().now() + 1_000_000_000
                _ = try? socket.receive(capacity: PortLimits.maxClientFrame + 1, until: deadline, stop: stopFD)
                try? socket.send(AgentFrame.refused(refusal.code, reason: refusal.detail).encode(), until: deadline, stop: stopFD)
            }
            return
        }
        let connection = registry.withLock { r -> PortConnection? in
            guard !r.stopped else { return nil }
            let c = PortConnection(serial: r.nextSerial, socket: socket, peer: peer, server: self)
            r.nextSerial += 1
            r.connections[c.serial] = c
            return c
        }
        guard let connection else { return }
        DispatchQueue(label: "fanfilter.port.client").async(group: threads) { connection.serve() }
    }

    private func refusal(of peer: Peer, on socket: SeqPacketSocket) -> FrameError? {
        if peer.uid == 0 { return nil }
        if let group = access.group, peer.gid == group || cport_peer_in_group(socket.fd, group) == 1 { return nil }
        let allowed = access.group.map { "root and members of group \($0) (port_group)" } ?? "root only (port_group is not set)"
        return FrameError(.notPermitted, "uid \(peer.uid) may not connect: the port admits \(allowed)")
    }

    /// Records a connection's hello; false when its role has no room left or the server stops.
    func register(_ connection: PortConnection, as hello: Hello, portId: UInt64?) -> Bool {
        registry.withLock { r in
            guard !r.stopped else { return false }
            if hello.role != .decider {
                let same = r.connections.values.filter { $0.role == hello.role }.count
                if same >= access.maxOthers { return false }
            }
            connection.registered(hello)
            if let portId { services.set(portId, hello) }
            if hello.role == .decider { registeredDeciders.add(1, ordering: .releasing) }
            return true
        }
    }

    func unregister(_ connection: PortConnection, portId: UInt64?) {
        registry.withLock { r in
            guard r.connections.removeValue(forKey: connection.serial) != nil else { return }
            if let portId { services.set(portId, nil) }
            if connection.isDecider { registeredDeciders.subtract(1, ordering: .releasing) }
        }
    }

    func spawn(_ label: String, _ work: @escaping @Sendable () -> Void) {
        DispatchQueue(label: label).async(group: threads, execute: work)
    }
}
