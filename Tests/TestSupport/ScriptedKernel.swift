import Fanotify
import Glibc
import Policy
import Synchronization
import SystemCall
import SystemPackage

/// A kernel for tests, behind the agent's `KernelGroup` seam: the test queues
/// events (each with a real fd on a real file, so the agent's workers read
/// real facts), the agent reads them in fanotify's own format, and every
/// answer is kept. No root, no fanotify, no marks on any filesystem.
///
/// What it checks, as the kernel would see it: each event is answered at
/// most once, by the fd it was read with; an event still held when its
/// group closes is allowed by the close, as the kernel does, and an answer
/// that comes after the close is refused with nothing written (counted in
/// `refusedAfterClose`). `violations` lists everything else.
public final class ScriptedKernel: Sendable {
    /// One queued event and what became of it.
    public struct Event: Sendable {
        public var path: String
        public var access: Access
        /// The verdict written by the agent; nil while unanswered.
        public var answer: Verdict?
        /// The rule number sent with the answer for the audit log (`_audit` rules).
        public var auditRule: Int?
        /// Held when its group closed: the kernel allowed it.
        public var allowedByClose = false
        /// Sent to a notification group (observe mode): no answer is due.
        public var notification = false

        /// Answered, allowed by a close, or due no answer.
        public var settled: Bool { answer != nil || allowedByClose || notification }
    }

    private struct State {
        var events: [Event] = []
        /// Event fds read by the agent and not answered, to the event's index.
        var pending: [Int32: Int] = [:]
        var violations: [String] = []
        var refusedAfterClose = 0
        var groups: [Group] = []
        var marks: [String] = []
        var ignored: [String] = []
        var flushes = 0
    }

    private let state = Mutex(State())
    private let changed = Mutex<[UnsafeMutablePointer<sem_t>]>([])

    public init() {}

    /// Makes the groups the agent asks for (pass as `Agent(kernel:)`).
    public var groups: KernelGroupFactory {
        { [self] (permission: Bool) throws(SystemCallError) -> any KernelGroup in
            let group = Group(kernel: self, permission: permission)
            state.withLock { $0.groups.append(group) }
            return group
        }
    }

    /// Queues an open (or execution) of `path` by process `pid` on the newest group;
    /// returns the event's index. `path` must exist: its fd is the event's fd.
    @discardableResult
    public func access(_ path: String, _ access: Access = .open, pid: Int32 = 1) -> Int {
        self.access(Array(path.utf8), access, pid: pid)
    }

    /// Queues an event of the file at `path` (raw bytes: any name a file may have).
    @discardableResult
    public func access(_ path: [UInt8], _ access: Access = .open, pid: Int32 = 1) -> Int {
        let fd = open(cString(path), O_RDONLY | O_CLOEXEC)
        precondition(fd >= 0, "cannot open \(printable(path))")
        let (index, group) = state.withLock { s -> (Int, Group?) in
            s.events.append(Event(path: printable(path), access: access, notification: !(s.groups.last?.permission ?? true)))
            return (s.events.count - 1, s.groups.last)
        }
        guard let group else { preconditionFailure("no group: start an agent on this kernel first") }
        group.enqueue(fd: fd, index: index, access: access, pid: pid)
        return index
    }

    public var events: [Event] { state.withLock { $0.events } }
    public func event(_ index: Int) -> Event { state.withLock { $0.events[index] } }
    public var violations: [String] { state.withLock { $0.violations } }
    /// Answers that came after their group closed: refused, nothing written.
    public var refusedAfterClose: Int { state.withLock { $0.refusedAfterClose } }
    /// `add FILESYSTEM /path` and `remove …`, in order.
    public var marks: [String] { state.withLock { $0.marks } }
    /// `open /path` or `execute /path` for each ignore mark the agent placed (the kernel cache), in order.
    public var ignored: [String] { state.withLock { $0.ignored } }
    /// How many times the agent dropped every ignore mark.
    public var flushes: Int { state.withLock { $0.flushes } }

    /// Waits (bounded) until every queued event is answered or allowed by a close.
    public func waitUntilSettled(timeout: Duration = .seconds(10)) -> Bool {
        eventually(timeout: timeout) { state.withLock { $0.events.allSatisfy(\.settled) } }
    }

    fileprivate func read(_ fd: Int32, index: Int) { state.withLock { $0.pending[fd] = index } }

    fileprivate func respond(_ fd: Int32, _ verdict: Verdict, auditRule: Int?, closed: Bool) -> Errno? {
        state.withLock { s in
            guard !closed else {
                // The contract: nothing is written, EBADF. The event was allowed by the close.
                s.refusedAfterClose += 1
                return .badFileDescriptor
            }
            guard let index = s.pending.removeValue(forKey: fd) else {
                s.violations.append("an answer (\(verdict)) to fd \(fd), which holds no unanswered event")
                return .noSuchFileOrDirectory
            }
            s.events[index].answer = verdict
            s.events[index].auditRule = auditRule
            return nil
        }
    }

    fileprivate func closed(_ held: [Int]) {
        state.withLock { s in
            for index in held { s.events[index].allowedByClose = true }
            for index in s.pending.values { s.events[index].allowedByClose = true }
            s.pending = [:]
        }
    }

    fileprivate func mark(_ text: String) { state.withLock { $0.marks.append(text) } }

    fileprivate func ignore(_ fd: Int32, _ access: Access) {
        let path = Self.path(of: fd)
        state.withLock { $0.ignored.append("\(access) \(path)") }
    }

    private static func path(of fd: Int32) -> String {
        var link = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &link, link.count - 1)
        return n > 0 ? String(decoding: link.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }

    fileprivate func unignore(_ fd: Int32) {
        let path = Self.path(of: fd)
        state.withLock { s in s.ignored.removeAll { $0.hasSuffix(" " + path) } }
    }

    fileprivate func flush() { state.withLock { $0.flushes += 1 } }

    /// One group: a queue of events, a pipe that is readable while it is not empty.
    final class Group: KernelGroup {
        private struct Queued { var fd: Int32; var index: Int; var mask: UInt64; var pid: Int32 }
        private struct GroupState { var queue: [Queued] = []; var closed = false; var inFlight = 0 }

        private unowned let kernel: ScriptedKernel
        let permission: Bool
        let features = FanotifyFeatures()
        let pollFD: Int32
        private let writeFD: Int32
        private let state = Mutex(GroupState())

        init(kernel: ScriptedKernel, permission: Bool) {
            self.kernel = kernel
            self.permission = permission
            var fds: [Int32] = [-1, -1]
            precondition(pipe(&fds) == 0)
            for fd in fds { _ = fcntl(fd, F_SETFL, O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            pollFD = fds[0]
            writeFD = fds[1]
        }

        deinit {
            Glibc.close(pollFD)
            Glibc.close(writeFD)
        }

        func enqueue(fd: Int32, index: Int, access: Access, pid: Int32) {
            // FAN_OPEN_PERM and FAN_OPEN_EXEC_PERM (FAN_OPEN and FAN_OPEN_EXEC for a notification group).
            let mask: UInt64 = permission ? (access == .execute ? 0x0004_0000 : 0x0001_0000)
                                          : (access == .execute ? 0x0000_1000 : 0x0000_0020)
            // The queue and the pipe change together, so the reader never misses a wake-up.
            state.withLock { s in
                s.queue.append(Queued(fd: fd, index: index, mask: mask, pid: pid))
                var byte: UInt8 = 1
                _ = write(writeFD, &byte, 1)
            }
        }

        var inFlight: Int { state.withLock { $0.inFlight } }
        func received() { state.withLock { $0.inFlight += 1 } }
        func answered() { state.withLock { $0.inFlight -= 1 } }

        /// Whole events in fanotify's format: struct fanotify_event_metadata
        /// (event_len, vers 3, reserved, metadata_len, mask, fd, pid), 24 bytes each.
        func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
            let taken = state.withLock { s -> [Queued] in
                let n = min(s.queue.count, buffer.count / 24)
                defer {
                    s.queue.removeFirst(n)
                    if s.queue.isEmpty {
                        var drain = [UInt8](repeating: 0, count: 64)
                        while Glibc.read(pollFD, &drain, drain.count) > 0 {}
                    }
                }
                return Array(s.queue.prefix(n))
            }
            for (i, e) in taken.enumerated() {
                let at = buffer.baseAddress! + i * 24
                at.storeBytes(of: UInt32(24), toByteOffset: 0, as: UInt32.self)
                at.storeBytes(of: UInt8(3), toByteOffset: 4, as: UInt8.self)
                at.storeBytes(of: UInt8(0), toByteOffset: 5, as: UInt8.self)
                at.storeBytes(of: UInt16(24), toByteOffset: 6, as: UInt16.self)
                at.storeBytes(of: e.mask, toByteOffset: 8, as: UInt64.self)
                at.storeBytes(of: e.fd, toByteOffset: 16, as: Int32.self)
                at.storeBytes(of: e.pid, toByteOffset: 20, as: Int32.self)
                if permission { kernel.read(e.fd, index: e.index) }
            }
            return taken.count * 24
        }

        func respond(to eventFD: Int32, _ verdict: Verdict, auditRule: Int?) -> Errno? {
            kernel.respond(eventFD, verdict, auditRule: auditRule, closed: state.withLock { $0.closed })
        }

        func ignore(_ eventFD: Int32, _ access: Access) -> Bool {
            guard !state.withLock({ $0.closed }) else { return false }
            kernel.ignore(eventFD, access)
            return true
        }

        func unignore(_ eventFD: Int32) { kernel.unignore(eventFD) }

        func flushIgnoreMarks() { kernel.flush() }

        func add(_ path: [UInt8], scope: MarkScope, openExec: inout Bool) throws(SystemCallError) -> MarkScope {
            // As fanotify_mark(2): a path that does not exist cannot be marked.
            guard Glibc.access(cString(path), F_OK) == 0 else {
                throw SystemCallError("cannot watch \(printable(path)) (\(scope.rawValue) mark)", .noSuchFileOrDirectory)
            }
            kernel.mark("add \(scope.rawValue) \(printable(path))")
            return scope
        }

        func remove(_ path: [UInt8], scope: MarkScope, openExec: Bool) throws(SystemCallError) {
            kernel.mark("remove \(scope.rawValue) \(printable(path))")
        }

        /// Events queued and never read are allowed by the close, as the kernel does;
        /// so are the read ones still unanswered.
        func close() {
            let unread = state.withLock { s -> [Queued] in
                guard !s.closed else { return [] }
                s.closed = true
                defer { s.queue = [] }
                return s.queue
            }
            for e in unread { Glibc.close(e.fd) }
            kernel.closed(unread.map(\.index))
        }
    }
}
