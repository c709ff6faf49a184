import CFanotify
import Dispatch
import FilterPort
import Glibc
import Logging
import Policy
import Synchronization
import SystemPackage

/// The policy in force: read once per event by the readers, replaced whole by reload.
package final class PolicyHolder: Sendable {
    private let current: Mutex<ActivePolicy>
    package init(_ policy: ActivePolicy) { current = Mutex(policy) }
    package func load() -> ActivePolicy { current.withLock { $0 } }
    package func store(_ policy: ActivePolicy) { current.withLock { $0 = policy } }
}
