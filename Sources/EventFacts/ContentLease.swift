import CFanotify
import Fanotify
import Glibc

/// Holds a file's contents still while the agent decides on them: a read
/// lease on the event's own descriptor. While it is held no one can open the
/// file for writing or truncate it (the kernel makes them wait until the
/// event's descriptor is closed, after the answer is written), so a digest,
/// a type or ELF headers read under it are still the file's contents when
/// the kernel gets the answer. The kernel refuses the lease while anyone has
/// the file open for writing, a writable shared mapping included: then the
/// contents are changing, and no decision may rest on them.
///
/// Guarantee: `hold` never waits. A filesystem that takes no leases (NFS,
/// FUSE, overlayfs on some kernels) gives `.unsupported`: the caches' file
/// identity, read again after hashing, is then the only check.
package enum ContentLease: Equatable {
    /// Held until the descriptor is closed.
    case held
    /// The file is open for writing now: its contents may change at any time.
    case openForWriting
    /// This filesystem takes no leases.
    case unsupported

    /// Takes the lease on the event's fd, once: a decision taken up again
    /// (handed back by the hasher, or by the reader to a spill thread) keeps
    /// the lease it has, even while a writer waits for it, which would make a
    /// second request fail as for a file open for writing.
    package static func hold(_ file: EventFile) -> ContentLease {
        if file.leased.load(ordering: .acquiring) { return .held }
        switch cfan_hold_read_lease(file.fd.rawValue) {
        case 0:
            file.leased.store(true, ordering: .releasing)
            return .held
        case -EAGAIN, -EBUSY: return .openForWriting
        default: return .unsupported
        }
    }

    /// Keeps the lease of an execution allowed on its contents a while past
    /// the answer. The kernel refuses writers to a program only once the
    /// execution has gone on past the answer (deny_write_access); a writer
    /// that waited for the lease could otherwise open, write and close in
    /// between, and the program run its bytes. Held on, the lease makes that
    /// writer wait until the execution has run or failed with ETXTBSY.
    package static func outlive(_ file: EventFile) {
        pastTheAnswer.hold(file)
    }

    /// Executions' leases held on past their answer, 100 ms each.
    private static let pastTheAnswer = ReleaseDelay(delay: .milliseconds(100), label: "fanfilter.leases")

    /// The agent ignores SIGIO, which the kernel sends a lease's holder when
    /// a writer waits for it (its default action ends the process): the
    /// lease is let go when the event's descriptor closes, in any case.
    package static func ignoreBreakNotices() {
        signal(SIGIO, SIG_IGN)
    }
}
