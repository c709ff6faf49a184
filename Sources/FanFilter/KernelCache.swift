import AgentLog
import FilterPort
import Glibc
import Policy
import Synchronization

/// The kernel-side decision cache: ignore marks placed after allows every
/// process would get, all dropped at once when they may have gone stale (a
/// reload, or a rename or new link on a watched filesystem). Each drop starts
/// a new epoch; a mark is placed only by a decision from an event read in the
/// current epoch. No lock is held across the mark's system call: a placement
/// that finds the epoch changed once its mark is on drops every mark again,
/// so no allow decided before a drop survives it.
final class KernelCache: Sendable {
    private let epoch = Atomic<UInt64>(1)
    private let counters: Counters

    init(counters: Counters) { self.counters = counters }

    /// The epoch an event read now belongs to.
    var current: UInt64 { epoch.load(ordering: .sequentiallyConsistent) }

    func remember(_ message: EventMessage) {
        guard message.cacheEpoch == current, message.group.ignore(message.file.fd.rawValue, message.access) else { return }
        counters.increment(.ignoreMarks)
        // A drop that began before the mark went on may have missed it.
        if current != message.cacheEpoch { message.group.flushIgnoreMarks() }
    }

    /// Starts a new epoch, then drops every ignore mark of `group`.
    func flush(_ group: any KernelGroup) {
        epoch.add(1, ordering: .sequentiallyConsistent)
        group.flushIgnoreMarks()
        counters.increment(.cacheFlushes)
    }

    /// A new group starts with no marks; events read before it belong to the old epoch.
    func reset() { epoch.add(1, ordering: .sequentiallyConsistent) }
}
