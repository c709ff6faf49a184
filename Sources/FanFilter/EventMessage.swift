import FilterPort
import Glibc
import Policy

/// A policy in force, shared by reference by every message read under it
/// (one retain per event, not a copy of the policy).
final class ActivePolicy: Sendable {
    let policy: Policy

    init(_ policy: Policy) { self.policy = policy }
}

/// An event's file descriptor, closed when the last holder lets go: after the
/// response is written and after any worker still reading through it (for a
/// hash) is done. So a closed and reused fd number is never read or answered.
final class EventFile: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

/// What crosses the port from the event reader to a worker: the access to
/// decide, the policy it is decided under (the one in force when it was read),
/// and the event it answers, which only the port's outcome handler touches.
struct EventMessage: PortPayload {
    var file: EventFile
    var group: FanotifyGroup
    var policy: ActivePolicy
    var request: AccessRequest
    /// CLOCK_MONOTONIC nanoseconds when the event was read (for FANFILTER_LATENCY_US).
    var receivedAt: UInt64
    /// The decision cache's epoch when the event was read.
    var cacheEpoch: UInt64

    var byteCount: Int {
        let path = request.object.path?.count ?? 0
        let exe = request.subject.exe?.count ?? 0
        let comm = request.subject.comm?.count ?? 0
        return 32 + path + exe + comm
    }
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
