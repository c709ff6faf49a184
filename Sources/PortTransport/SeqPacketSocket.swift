import Clocks
import CPortSocket
import Glibc
import PortProtocol
import SystemCall
import SystemPackage

/// One end of a port connection: a SOCK_SEQPACKET Unix socket, where each
/// send is one whole frame and each receive takes one whole frame. Owns its
/// descriptor and closes it once, in `close()` or when released.
public final class SeqPacketSocket: @unchecked Sendable {
    public let fd: Int32
    private var closed = false

    /// Takes ownership of a connected socket.
    public init(adopting fd: Int32) { self.fd = fd }

    /// Connects to the port at `path`.
    public convenience init(connectingTo path: String) throws(TransportError) {
        let fd = cport_connect(path)
        guard fd >= 0 else { throw .failed(SystemCallError("connect to \(path)", Errno(rawValue: -fd))) }
        self.init(adopting: fd)
    }

    deinit { close() }

    /// Closes the descriptor; called once by whoever owns the socket last.
    public func close() {
        guard !closed else { return }
        closed = true
        try? FileDescriptor(rawValue: fd).close()
    }

    /// Wakes whatever waits on this socket in another thread (both directions end).
    public func shutdown() { _ = try? systemCall("shutdown") { Glibc.shutdown(fd, Int32(SHUT_RDWR)) } }

    /// Sends one frame, with `passing` (>= 0) attached, waiting at most until
    /// `deadline` (CLOCK_MONOTONIC ns; nil: as long as it takes) for room, or
    /// until `stop` (>= 0) becomes readable. Throws ETIMEDOUT when no room came.
    public func send(_ frame: [UInt8], passing descriptor: Int32 = -1, until deadline: UInt64? = nil,
                     stop: Int32 = -1) throws(TransportError) {
        while true {
            let n = frame.withUnsafeBytes { cport_send(fd, $0.baseAddress, $0.count, descriptor, Int32(MSG_DONTWAIT)) }
            if n >= 0 { return }
            let err = Int32(-n)
            guard err == EAGAIN else { throw .failed(SystemCallError("send", Errno(rawValue: err))) }
            guard try wait(for: Int16(POLLOUT), until: deadline, stop: stop) else { throw .failed(SystemCallError("send", .timedOut)) }
        }
    }

    /// Sends one frame if the socket has room now: true when sent, false when
    /// it has none (EAGAIN); never waits. Throws on any other error.
    public func trySend(_ frame: [UInt8], passing descriptor: Int32 = -1) throws(TransportError) -> Bool {
        let n = frame.withUnsafeBytes { cport_send(fd, $0.baseAddress, $0.count, descriptor, Int32(MSG_DONTWAIT)) }
        if n >= 0 { return true }
        if Int32(-n) == EAGAIN { return false }
        throw .failed(SystemCallError("send", Errno(rawValue: Int32(-n))))
    }

    /// One received frame: its bytes (at most the capacity asked for), its whole length, and a descriptor it carried.
    public struct Received {
        public var bytes: [UInt8]
        public var length: Int
        public var descriptor: Int32
        public var truncated: Bool { length > bytes.count }
    }

    /// Receives one frame, waiting until `deadline` (nil: forever) or until
    /// `stop` (a descriptor, >= 0) becomes readable. nil: the deadline passed
    /// or `stop` fired. Throws `.closed` at end of stream (also after
    /// `shutdown()`), or the call that failed.
    public func receive(capacity: Int, until deadline: UInt64? = nil, stop: Int32 = -1) throws(TransportError) -> Received? {
        // With nothing to wait for but the frame, the receive itself blocks (one system
        // call, not three); `shutdown()` from another thread ends it.
        let flags = deadline == nil && stop < 0 ? Int32(0) : Int32(MSG_DONTWAIT)
        while true {
            if let received = try receiveOnce(capacity: capacity, flags: flags) { return received }
            guard try wait(for: Int16(POLLIN), until: deadline, stop: stop) else { return nil }
        }
    }

    /// Receives the frames waiting now, up to `limit` (and the batch's
    /// capacity), with one system call, into `batch`: how many (0 when none
    /// waits). Never waits. At end of stream, or on an error, throws as
    /// `receive`; frames received before it are still in the batch only when
    /// it returns.
    public func tryReceive(into batch: ReceiveBatch, limit: Int) throws(TransportError) -> Int {
        let n = batch.receive(from: fd, limit: limit)
        if n == -Int(EAGAIN) { return 0 }
        if n < 0 { throw .failed(SystemCallError("receive", Errno(rawValue: Int32(-n)))) }
        return n
    }

    /// One receive (the shim retries EINTR); nil on EAGAIN.
    private func receiveOnce(capacity: Int, flags: Int32) throws(TransportError) -> Received? {
        var length = 0
        var received: Int32 = -1
        // Into uninitialised room (no memset of the whole capacity), then copied to its own size.
        var error: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            let n = cport_receive(fd, buffer.baseAddress, capacity, &length, &received, flags)
            count = max(0, n)
            error = n < 0 ? Int32(-n) : 0
        }
        if error == 0, !bytes.isEmpty || length > 0 {
            return Received(bytes: Array(bytes[...]), length: length, descriptor: received)
        }
        if error == 0 { throw .closed(operation: "receive") }
        guard error == EAGAIN else { throw .failed(SystemCallError("receive", Errno(rawValue: error))) }
        return nil
    }

    /// Polls for `events`; false when the deadline passed or `stop` fired.
    private func wait(for events: Int16, until deadline: UInt64?, stop: Int32 = -1) throws(TransportError) -> Bool {
        var fds = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let now = SystemClock().now()
                if now >= deadline { return false }
                timeout = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            }
            // A stop of -1 is an entry poll(2) passes over.
            do { _ = try Poll.wait(&fds, milliseconds: timeout) } catch { throw .failed(error) }
            if stop >= 0, fds[1].revents != 0 { return false }
            if fds[0].revents != 0 { return true }
        }
    }
}

