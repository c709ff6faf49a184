import FilterPort
import Glibc
import Policy

/// A policy in force, shared by reference by every message read under it
/// (one retain per event, not a copy of the policy), with the decision cache
/// that belongs to it: a reload starts with an empty one.
final class ActivePolicy: Sendable {
    let policy: Policy
    /// nil with `cache = off`.
    let decisions: DecisionCache?

    init(_ policy: Policy, counters: Counters? = nil) {
        self.policy = policy
        decisions = policy.settings.cache == .off ? nil
            : DecisionCache(capacity: policy.settings.cacheSize, counters: counters)
    }
}

/// An event's file descriptors: the file, and the pidfd of the process when
/// the kernel gave one. Closed when the last holder lets go: after the
/// response is written and after the worker reading through them is done.
/// So a closed and reused fd number is never read or answered.
final class EventFile: Sendable {
    let fd: Int32
    let pidfd: Int32
    init(_ fd: Int32, pidfd: Int32 = -1) {
        self.fd = fd
        self.pidfd = pidfd
    }
    deinit {
        close(fd)
        if pidfd >= 0 { close(pidfd) }
    }
}

/// What crosses the port from the event reader to a worker, as a minifilter
/// sends a scanner the file and process to look at: the access, the process
/// id, the policy to decide it under (the one in force when it was read), and
/// the event it answers. The worker gathers the facts itself, through the
/// event's fds; only the port's outcome handler answers the event.
struct EventMessage: PortPayload {
    var file: EventFile
    var group: FanotifyGroup
    var policy: ActivePolicy
    var access: Access
    var pid: Int32
    /// CLOCK_MONOTONIC nanoseconds when the event was read (for FANFILTER_LATENCY_US).
    var receivedAt: UInt64
    /// The kernel cache's epoch when the event was read.
    var cacheEpoch: UInt64

    var byteCount: Int { 40 }
}

/// A worker's answer: the policy's decision, and whether it may be cached in
/// the kernel (an allow any process would get for this file).
struct DecisionReply: PortPayload {
    var decision: Decision
    var cacheable: Bool
    var byteCount: Int { 16 }

    /// What a reply may take: a verdict and a rule number.
    static let capacity = 16
}
