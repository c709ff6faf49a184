import Fanotify
import FilterPort
import Glibc
import Policy
import PortServer

/// What crosses the port from the event reader to a worker, as a minifilter
/// sends a scanner the file and process to look at: the access, the process
/// id, the policy to decide it under (the one in force when it was read), and
/// the event it answers. The worker gathers the facts itself, through the
/// event's fds; only the port's outcome handler answers the event. With
/// `ask` set it goes in the deciders' lane, to a socket decider.
package struct EventMessage: WireCarrying {
    package var file: EventFile
    package var group: any KernelGroup
    package var policy: ActivePolicy
    package var access: Access
    package var pid: Int32
    /// CLOCK_MONOTONIC nanoseconds when the event was read (for FANFILTER_LATENCY_US).
    package var receivedAt: UInt64
    /// The kernel cache's epoch when the event was read.
    package var cacheEpoch: UInt64
    /// More events of the same read came after it: the reader was behind
    /// (told to a decider as `EventRecord.moreEventsWaiting`).
    var moreEventsWaiting: Bool = false
    /// The user (real uid) this event is counted for in the busy queue's
    /// `UserShare`, released when it is answered (nil: not counted).
    package var countedUser: UInt32?
    /// Set when an `ask` rule left the event to the socket port's deciders.
    package var ask: AskedEvent?

    package init(file: EventFile, group: any KernelGroup, policy: ActivePolicy, access: Access, pid: Int32,
                 receivedAt: UInt64, cacheEpoch: UInt64, moreEventsWaiting: Bool) {
        self.file = file
        self.group = group
        self.policy = policy
        self.access = access
        self.pid = pid
        self.receivedAt = receivedAt
        self.cacheEpoch = cacheEpoch
        self.moreEventsWaiting = moreEventsWaiting
    }

    package var byteCount: Int { ask?.wire.byteCount ?? 40 }
    package var wire: WireMessage? { ask?.wire }
}
