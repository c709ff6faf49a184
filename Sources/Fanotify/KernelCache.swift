import AgentCounts
import AgentLog
import Clocks
import FilterPort
import Glibc
import Policy
import Synchronization
import SystemPackage

/// The kernel-side decision cache: ignore marks placed after allows every
/// process would get, dropped when they may have gone stale. Each drop
/// starts a new epoch; a mark is placed only by a decision from an event read
/// in the current epoch. No lock is held across the mark's system call: a
/// placement that finds the epoch changed once its mark is on drops that
/// mark again, so no allow decided before a drop survives it.
///
/// What a drop drops: a reload, a folder moved (every path under it changed)
/// or a lost notification drops every mark; a file moved or given a second
/// name drops that file's marks alone (`moved`). Full drops are bounded: a
/// second one within `stormGap` of the last starts a storm, during which no
/// mark is placed and so none needs dropping, until `stormGap` passes with
/// no full drop asked for. One user renaming folders in a loop thus costs a
/// few drops, not one per rename.
///
/// Where renames cannot be followed (a kernel or filesystem that takes no
/// rename-watching mark: Debian 11's 5.10 on tmpfs), no mark is placed at
/// all: a file moved under a denied folder would otherwise keep its allow.
package final class KernelCache: Sendable {
    private let epoch = Atomic<UInt64>(1)
    /// The filesystems (st_dev) whose renames the `LinkWatcher` in force cannot follow.
    private let unfollowed = Mutex<Unfollowed>(.nowhere)
    private let anyUnfollowed = Atomic<Bool>(false)

    package enum Unfollowed: Equatable, Sendable {
        case nowhere
        case on(Set<UInt64>)
        case everywhere
    }
    /// When the last full drop was made, and until when marks wait (monotonic ns).
    private let lastFlush = Atomic<UInt64>(0)
    private let stormUntil = Atomic<UInt64>(0)
    private let counters: Counters
    private let clock: any MonotonicClock
    static let stormGap: UInt64 = 1_000_000_000

    package init(counters: Counters, clock: any MonotonicClock = SystemClock()) {
        self.counters = counters
        self.clock = clock
    }

    /// The epoch an event read now belongs to.
    package var current: UInt64 { epoch.load(ordering: .sequentiallyConsistent) }

    /// Has `group` stop asking for `access` to the event's file, unless the
    /// cache was dropped since the event was read (`epoch`), a storm is on, or
    /// the file lies where renames are not followed.
    package func remember(_ file: EventFile, on group: any KernelGroup, _ access: Access, readIn epoch: UInt64) {
        guard epoch == current, clock.now() >= stormUntil.load(ordering: .relaxed),
              followsRenames(of: file.fd.rawValue),
              group.ignore(file.fd.rawValue, access) else { return }
        counters.increment(.ignoreMarks)
        // A drop that began before the mark went on may have missed it.
        if current != epoch { group.unignore(file.fd.rawValue) }
    }

    /// Says which filesystems' renames the rename watcher now in force cannot
    /// follow: no ignore mark goes on a file there.
    func renamesUnfollowed(_ where: Unfollowed) {
        unfollowed.withLock { $0 = `where` }
        anyUnfollowed.store(`where` != .nowhere, ordering: .sequentiallyConsistent)
    }

    /// Whether the file open as `fd` lies where renames are followed (one
    /// fstat, and only while some filesystem's are not).
    private func followsRenames(of fd: Int32) -> Bool {
        guard anyUnfollowed.load(ordering: .sequentiallyConsistent) else { return true }
        guard let st = try? FileDescriptor(rawValue: fd).stat().rawValue else { return false }
        return unfollowed.withLock { u in
            switch u {
            case .nowhere: true
            case .on(let devices): !devices.contains(UInt64(st.st_dev))
            case .everywhere: false
            }
        }
    }

    /// Starts a new epoch, then drops every ignore mark of `group` (a reload).
    package func flush(_ group: any KernelGroup) {
        epoch.add(1, ordering: .sequentiallyConsistent)
        group.flushIgnoreMarks()
        counters.increment(.cacheFlushes)
    }

    /// Every path may have changed (a folder moved, a notification lost): a
    /// full drop, or during a storm none (no mark is placed), the storm going on.
    func changedEverywhere(_ group: any KernelGroup) {
        let now = clock.now()
        epoch.add(1, ordering: .sequentiallyConsistent)
        let storming = now < stormUntil.load(ordering: .relaxed)
        if storming || now &- lastFlush.load(ordering: .relaxed) < Self.stormGap {
            stormUntil.store(now &+ Self.stormGap, ordering: .relaxed)
        }
        guard !storming else { return }
        lastFlush.store(now, ordering: .relaxed)
        group.flushIgnoreMarks()
        counters.increment(.cacheFlushes)
    }

    /// The entry `name` in the folder `dir` is a file with a new path (moved
    /// there, or a second name): a new epoch, so no decision read before it
    /// places a mark, and that file's marks dropped alone.
    func moved(in group: FanotifyGroup, dir: Int32, _ name: UnsafePointer<CChar>) {
        epoch.add(1, ordering: .sequentiallyConsistent)
        group.unignore(at: dir, name)
        counters.increment(.cacheDrops)
    }

    /// A new group starts with no marks; events read before it belong to the old epoch.
    package func reset() { epoch.add(1, ordering: .sequentiallyConsistent) }
}
