import AgentCounts
import AgentLog
import FilterPort
import Glibc
import Policy
import Synchronization

/// The one place an event is answered: it writes the response (for a
/// permission event; observe mode's notifications need none), counts it, and
/// lets go of the event fd, in that order. The kernel matches a response by fd
/// number and numbers are reused once closed, so a caller must own the event
/// (the port's settle-once, or the reader before it sends) and answers it
/// exactly once. Debug builds check that with a ledger of the event fds read
/// and not yet answered.
package final class Responder: Sendable {
    private let counters: Counters
    #if DEBUG
    private let ledger = Mutex<Set<Int32>>([])
    #endif

    package init(counters: Counters) {
        self.counters = counters
    }

    /// Notes an event the reader got from the kernel.
    package func received(_ file: EventFile, on group: any KernelGroup) {
        group.received()
        #if DEBUG
        let fresh = ledger.withLock { $0.insert(file.fd.rawValue).inserted }
        precondition(fresh, "event fd \(file.fd.rawValue) read again before it was answered")
        #endif
    }

    package func answer(_ file: EventFile, on group: any KernelGroup, _ verdict: Verdict, auditRule: Int? = nil) {
        #if DEBUG
        let owned = ledger.withLock { $0.remove(file.fd.rawValue) != nil }
        precondition(owned, "event fd \(file.fd.rawValue) answered twice (or never read)")
        #endif
        if group.permission, group.respond(to: file.fd.rawValue, verdict, auditRule: auditRule) != nil {
            counters.increment(.responseErrors)
        }
        counters.increment(.responses)
        counters.increment(verdict == .allow ? .allowed : .denied)
        group.answered()
    }

    /// Event fds read and not yet answered (debug builds; 0 otherwise).
    package var outstanding: Int {
        #if DEBUG
        ledger.withLock { $0.count }
        #else
        0
        #endif
    }
}
