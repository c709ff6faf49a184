import SystemPackage
import CFanotify
import FilterPort
import Glibc
import Logging
import Policy

/// The fanotify loop: where permission events enter. One thread reads events
/// in batches, answers the agent's own process at once, resolves each other
/// event's path and subject, and sends it over the port. From the send on, the
/// port's outcome (reply, timeout, overload) decides who answers; the reader
/// never answers a sent event itself.
final class EventReader: @unchecked Sendable {
    private let group: FanotifyGroup
    private let port: FilterPort<EventMessage, DecisionReply>
    private let responder: Responder
    private let settlement: Settlement
    private let counters: Counters
    private let replyTimeout: Duration
    private let logger: Logger
    private let ownPid = getpid()
    /// A pipe: poll(2) watches its read end beside the fanotify fd; `stop()` writes to it.
    private let stopPipe: (read: Int32, write: Int32)

    static let bufferSize = 16 * 1024

    init(group: FanotifyGroup, port: FilterPort<EventMessage, DecisionReply>, responder: Responder,
         settlement: Settlement, counters: Counters, replyTimeout: Duration, logger: Logger) throws(AgentError) {
        self.group = group
        self.port = port
        self.responder = responder
        self.settlement = settlement
        self.counters = counters
        self.replyTimeout = replyTimeout
        self.logger = logger
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw AgentError("pipe failed", errno: .init(rawValue: errno)) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        stopPipe = (fds[0], fds[1])
    }

    deinit {
        close(stopPipe.read)
        close(stopPipe.write)
    }

    /// Asks `run` to return after the batch in hand. Safe from any thread.
    func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
    }

    /// Reads and dispatches events until `stop()`.
    func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        var fds = [pollfd(fd: group.fd.rawValue, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
        var readErrors: UInt64 = 0
        while true {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                logger.critical("poll on the fanotify fd failed: \(Errno(rawValue: errno)); the reader stops")
                return
            }
            if fds[1].revents != 0 { return }
            let length: Int
            do {
                length = try group.read(into: buffer)
            } catch {
                // The kernel denies an event it could not hand over (no fd left, say).
                readErrors += 1
                if readErrors & (readErrors - 1) == 0 { logger.error("\(error) [\(readErrors) so far]") }
                continue
            }
            var offset = 0
            var event = cfan_event()
            while true {
                let r = cfan_next_event(buffer.baseAddress, length, &offset, &event)
                if r == 1 { dispatch(event); continue }
                if r < 0 { logger.critical("fanotify metadata version mismatch: the reader stops"); return }
                break
            }
        }
    }

    private func dispatch(_ event: cfan_event) {
        defer { if event.pidfd >= 0 { close(event.pidfd) } }
        guard event.fd >= 0 else { return } // FAN_Q_OVERFLOW: no event to answer
        counters.increment(.events)
        let access: Access = event.mask & UInt64(FAN_OPEN_EXEC_PERM) != 0 ? .execute : .open
        counters.increment(access == .execute ? .execute : .open)
        responder.received(event.fd)
        if event.pid == ownPid {
            counters.increment(.ownProcess)
            responder.answer(event.fd, .allow)
            return
        }
        let request = AccessRequest(access: access,
                                    subject: ProcFacts.subject(pid: event.pid, pidfd: event.pidfd),
                                    path: ProcFacts.path(of: event.fd))
        port.send(EventMessage(eventFD: event.fd, request: request),
                  replyCapacity: DecisionReply.capacity, timeout: replyTimeout) { [settlement] _, message, outcome in
            settlement.settle(message, outcome)
        }
    }
}
