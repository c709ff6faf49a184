import Glibc
import Synchronization
import SystemPackage

/// An event's file descriptors: the file, and the pidfd of the process when
/// the kernel gave one. Closed when the last holder lets go: after the
/// response is written and after the worker reading through them is done.
/// So a closed and reused fd number is never read or answered.
package final class EventFile: Sendable {
    package let fd: FileDescriptor
    let pidfd: FileDescriptor?
    /// A `ContentLease` is held on `fd` (it lasts until the fd is closed).
    package let leased = Atomic<Bool>(false)

    /// Takes ownership of `fd`, and of `pidfd` when it is one (>= 0).
    package init(_ fd: Int32, pidfd: Int32 = -1) {
        self.fd = FileDescriptor(rawValue: fd)
        self.pidfd = pidfd >= 0 ? FileDescriptor(rawValue: pidfd) : nil
        DescriptorBudget.held.add(pidfd >= 0 ? 2 : 1, ordering: .relaxed)
    }

    deinit {
        try? fd.close()
        try? pidfd?.close()
        DescriptorBudget.held.subtract(pidfd != nil ? 2 : 1, ordering: .relaxed)
    }

    /// The pidfd's number for the C calls that take one, or -1.
    package var pidfdNumber: Int32 { pidfd?.rawValue ?? -1 }
}
