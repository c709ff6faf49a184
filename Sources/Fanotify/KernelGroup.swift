import Glibc
import Policy
import SystemCall
import SystemPackage

/// The agent's one boundary with the kernel: a group of file-access events,
/// its marks, and the one way to answer an event. `FanotifyGroup` is the
/// kernel's; a scripted one (TestSupport's `ScriptedKernel`) lets the
/// exactly-once, timeout, overload, reload and stop logic run without root,
/// event by event.
///
/// Contract: `read` fills the buffer with whole events in fanotify's format
/// (`struct fanotify_event_metadata` and its info records) and returns 0 when
/// none wait; `pollFD` is readable while some do. `respond` answers a
/// permission event by its event fd, once; after `close()` it writes nothing
/// and returns EBADF (the group's end answered every event still held).
/// `received()`/`answered()` count the events in flight for a stop to wait on.
public protocol KernelGroup: AnyObject, Sendable {
    /// Readable (POLLIN) while events wait to be read.
    var pollFD: Int32 { get }
    /// Whether events wait for an answer (false: observe mode's notifications).
    var permission: Bool { get }
    var features: FanotifyFeatures { get }
    /// Events read and not yet answered.
    var inFlight: Int { get }
    func received()
    func answered()
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int
    func respond(to eventFD: Int32, _ verdict: Verdict, auditRule: Int?) -> Errno?
    func ignore(_ eventFD: Int32, _ access: Access) -> Bool
    /// Drops the ignore marks of the event's file alone (for opens and executions).
    func unignore(_ eventFD: Int32)
    func flushIgnoreMarks()
    /// Marks what holds `path`; returns the scope marked. Without executions
    /// reported apart from opens, `openExec` turns false.
    func add(_ path: [UInt8], scope: MarkScope, openExec: inout Bool) throws(SystemCallError) -> MarkScope
    func remove(_ path: [UInt8], scope: MarkScope, openExec: Bool) throws(SystemCallError)
    func close()
}

/// Makes the group of each class the agent needs (permission or notification).
public typealias KernelGroupFactory = @Sendable (_ permission: Bool) throws(SystemCallError) -> any KernelGroup

/// The real kernel's groups.
public let fanotifyGroups: KernelGroupFactory = { (permission: Bool) throws(SystemCallError) -> any KernelGroup in
    try FanotifyGroup(permission: permission)
}
