import AgentCounts
import CFanotify
import Clocks
import Deciding
import Dispatch
import EventFacts
import Fanotify
import FilterPort
import Glibc
import Logging
import Policy
import PortServer
import Synchronization
import SystemCall
import SystemPackage

/// The fanotify loop: where events enter. One thread per group reads events
/// in batches, answers the agent's own process at once, and sends each other
/// event over the port with the policy in force. From the send on, the port's
/// outcome (reply, timeout, overload) decides who answers. Up to
/// `decidedPerBatch` events a batch, the reader sends as a thread of the
/// workers' client and takes the message itself when no worker spins for it
/// (`DecisionWorkers.sendAndDecide`): the reply still settles it through the
/// port, exactly as a worker's would. It also takes the replies of the socket
/// port's deciders (`PortServer.takeDeciderFrames`): the reply to an `ask`
/// is what the opener, and so its next event, waits for, so the reader is
/// the thread to wake for it, and no other is.
final class EventReader: Sendable {
    struct Context: Sendable {
        let port: FilterPort<EventMessage, DecisionReply>
        let responder: Responder
        let settlement: Settlement
        let counters: Counters
        let policies: PolicyHolder
        let cache: KernelCache
        /// Decides a message on the reader's thread when nothing else waits for it (see `DecisionWorkers`).
        let workers: DecisionWorkers
        /// The socket port whose deciders' frames this reader takes (nil: none).
        let deciderFrames: PortServer?
        let logger: Logger
    }

    let group: any KernelGroup
    private let context: Context
    /// Counts turns of the loop (at least one a second while it runs): the watchdog's proof of life.
    let heartbeat = Atomic<UInt64>(0)
    private let ownPid = getpid()
    /// poll(2) watches it beside the fanotify fd; `stop()` signals it.
    private let stopPipe: StopPipe
    private let stopping = Atomic<Bool>(false)
    /// The outcome handler of every send, made once (a closure per send would be an allocation per event).
    private let settle: FilterPort<EventMessage, DecisionReply>.OutcomeHandler

    static let bufferSize = 16 * 1024
    /// At most this many events of one batch are decided on the reader's thread.
    static let decidedPerBatch = 4

    init(group: any KernelGroup, context: Context) throws(AgentError) {
        self.group = group
        self.context = context
        settle = { [settlement = context.settlement] header, message, outcome in
            settlement.settle(header, message, outcome)
        }
        do { stopPipe = try StopPipe(for: "the reader's stop") } catch { throw .failed(error) }
    }

    /// Asks `run` to return after the batch in hand. Safe from any thread.
    func stop() {
        stopping.store(true, ordering: .releasing)
        stopPipe.signal()
    }

    /// Reads and dispatches events until `stop()`. The fd is non-blocking.
    /// While events come close together (see `ArrivalGap`) the reader reads
    /// again at once, and when a read finds nothing it reads again, yielding
    /// the CPU between reads, for about twice the usual gap; otherwise, and
    /// after that, it sleeps in poll(2), at most a second at a time.
    func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let frames = context.deciderFrames
        var fds = [pollfd(fd: group.pollFD, events: Int16(POLLIN), revents: 0)]
        if let frames { fds.append(pollfd(fd: frames.deciderFramesFD, events: Int16(POLLIN), revents: 0)) }
        fds.append(stopPipe.entry)
        // Whether spinning pays is one question for the reader and the port's waiting threads.
        let batches = ArrivalGap(busy: context.port.busy)
        let budget = DescriptorBudget(perEvent: group.features.pidfd ? 2 : 1)
        // A buffer of N of these holds N events at most (an event of another size would not fit:
        // the read after such a refusal takes the whole buffer).
        let eventSize = cfan_event_size(group.features.pidfd ? 1 : 0)
        var refusedShort = false
        var waitForDescriptors = [stopPipe.entry]
        var readErrors: UInt64 = 0
        var idle = false
        var spinUntil: UInt64 = 0
        while !stopping.load(ordering: .acquiring) {
            heartbeat.add(1, ordering: .relaxed)
            if idle {
                switch stopPipe.poll(&fds, milliseconds: 1000) {
                case .stopped: return
                case .timedOut: continue
                case .failed(let error):
                    context.logger.critical("poll on the fanotify fd failed: \(error); the reader stops")
                    return
                case .ready:
                    // poll said which is ready: neither is looked at in vain.
                    if let frames, fds[1].revents != 0 { frames.takeDeciderFrames() }
                    if fds[0].revents == 0 { continue }
                }
            } else if let frames, frames.hasDeciders {
                // Every turn of a reader that does not sleep: a reply is taken as soon as it comes by.
                frames.takeDeciderFrames()
            }
            // No more events than there are descriptors for: the kernel would deny the rest itself.
            let room = budget.eventsThatFit(inFlight: group.inFlight)
            if room == 0 {
                context.counters.increment(.descriptorWaits)
                if case .stopped = stopPipe.poll(&waitForDescriptors, milliseconds: 1) { return }
                continue
            }
            let length: Int
            let fits = refusedShort || room >= buffer.count / eventSize ? buffer.count : room * eventSize
            do {
                length = try group.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<fits]))
                refusedShort = false
            } catch {
                if error.errno == .invalidArgument, fits < buffer.count {
                    refusedShort = true  // an event larger than this group's usual: made room for
                    continue
                }
                readFailed(error, count: &readErrors)
                idle = true
                continue
            }
            if length == 0 {
                let now = SystemClock().now()
                if spinUntil == 0 { spinUntil = now + batches.spinBudget }
                idle = now >= spinUntil || !batches.busy.spinningPays
                if !idle { batches.busy.yield() }
                continue
            }
            // While events come close together the next read comes at once; otherwise poll first.
            batches.arrived()
            idle = batches.spinBudget == 0
            spinUntil = 0
            guard dispatchBatch(UnsafeRawBufferPointer(rebasing: buffer[..<length])) else { return }
        }
    }

    /// Sends each event of a batch on the port, and decides up to
    /// `decidedPerBatch` of them on this thread. False when the kernel's
    /// metadata version is not this build's: the reader stops.
    private func dispatchBatch(_ batch: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        var event = cfan_event()
        var decidedHere = 0
        while true {
            let r = cfan_next_event(batch.baseAddress, batch.count, &offset, &event)
            if r == 1 {
                // Decided on this thread when no worker spins for it: in turn, as the C listener does,
                // which costs less than waking a worker, up to a few a batch; the rest go to workers in parallel.
                if dispatch(event, moreEventsWaiting: offset < batch.count, decideHere: decidedHere < Self.decidedPerBatch) {
                    decidedHere += 1
                }
                continue
            }
            if r < 0 {
                context.logger.critical("fanotify metadata version mismatch: the reader stops")
                return false
            }
            break
        }
        return true
    }

    /// A read of the group that failed: for want of a descriptor the kernel
    /// denied the event itself (counted); any other failure is logged at 1, 2, 4, 8 … of them.
    private func readFailed(_ error: SystemCallError, count: inout UInt64) {
        count += 1
        if error.errno == .tooManyOpenFiles || error.errno == .tooManyOpenFilesInSystem {
            kernelDenied(error)
        } else if count & (count - 1) == 0 {
            context.logger.error("\(error) [\(count) so far]")
        }
    }

    /// An event the kernel denied without the agent: counted, and logged at 1, 2, 4, 8 … of them.
    private func kernelDenied(_ error: SystemCallError) {
        let n = context.counters.increment(.kernelDenied)
        guard n & (n - 1) == 0 else { return }
        context.logger.error("the kernel denied an access fanfilter could not see: \(error); RLIMIT_NOFILE is \(OpenFileLimit.current.map { "\($0.soft)" } ?? "unknown") (raise LimitNOFILE, or lower queue_size) [\(n) so far]")
    }

    /// Turns one event into a message on the port; nothing here reads /proc
    /// or the file, so the one reader keeps up with many workers. With
    /// `decideHere`, the reader decides it when no worker spins for it: true then.
    private func dispatch(_ event: cfan_event, moreEventsWaiting: Bool, decideHere: Bool) -> Bool {
        let c = context
        guard event.fd >= 0 else {
            if event.pidfd >= 0 { try? FileDescriptor(rawValue: event.pidfd).close() }
            if event.mask & UInt64(FAN_Q_OVERFLOW) != 0 {
                c.counters.increment(.queueOverflows)
            } else if group.features.fdError {
                // FAN_REPORT_FD_ERROR: the fd field holds -errno, and the kernel has denied the event.
                kernelDenied(SystemCallError("the kernel could not make a file descriptor for an event of pid \(event.pid)",
                                             Errno(rawValue: -event.fd)))
            }
            return false
        }
        let receivedAt = SystemClock().now()
        c.counters.increment(.events)
        let exec = UInt64(FAN_OPEN_EXEC_PERM) | UInt64(FAN_OPEN_EXEC)
        let access: Access = event.mask & exec != 0 ? .execute : .open
        c.counters.increment(access == .execute ? .execute : .open)
        let file = EventFile(event.fd, pidfd: event.pidfd)
        c.responder.received(file, on: group)
        if event.pid == ownPid {
            c.counters.increment(.ownProcess)
            c.responder.answer(file, on: group, .allow)
            return false
        }
        let policy = c.policies.load()
        var message = EventMessage(file: file, group: group, policy: policy, access: access, pid: event.pid,
                                   receivedAt: receivedAt, cacheEpoch: c.cache.current,
                                   moreEventsWaiting: moreEventsWaiting)
        // A busy queue: each user gets a share of it (see `UserShare`).
        let bound = policy.policy.agent.perUserBound(queueCapacity: c.port.backlogCapacity)
        if bound > 0, queueIsBusy(c), let user = ProcFacts.realUID(pid: event.pid, pidfd: event.pidfd) {
            guard c.settlement.userShare.admit(user, bound: bound) else {
                c.settlement.refuseOverShare(message, user: user, bound: bound)
                return false
            }
            message.countedUser = user
        }
        let timeout = policy.policy.agent.replyTimeout
        if decideHere { return c.workers.sendAndDecide(message, timeout: timeout, onOutcome: settle) }
        c.port.send(message, replyCapacity: DecisionReply.capacity, timeout: timeout, onOutcome: settle)
        return false
    }

    /// Whether at least half the queue is taken: events read and not yet
    /// answered, from two counters (no lock on the way of every event).
    private func queueIsBusy(_ c: Context) -> Bool {
        let unanswered = Int64(bitPattern: c.counters[.events] &- c.counters[.responses])
        return unanswered >= Int64(c.port.backlogCapacity / 2)
    }
}
