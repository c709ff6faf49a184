import CFanotify
import Glibc
import Policy
import Synchronization
import SystemPackage

/// What the running kernel granted when the group was created.
public struct FanotifyFeatures: Sendable, Equatable, CustomStringConvertible {
    /// Events carry a pidfd, so subject facts can be checked against pid reuse.
    public var pidfd = false
    /// Responses may ask for a kernel audit record (FAN_AUDIT).
    public var audit = false
    /// The event queue has no length limit.
    public var unlimitedQueue = false
    /// Executions are reported apart from opens (FAN_OPEN_EXEC_PERM).
    public var openExecPerm = true
    /// An event the kernel could not make an fd for still reaches the agent,
    /// which counts and logs it (FAN_REPORT_FD_ERROR); before, the read fails.
    public var fdError = false
    /// How the kernel cache's ignore marks are made: evictable marks (5.19),
    /// with FAN_MARK_IGNORE (6.0) or the legacy ignored mask; without
    /// evictable marks there is no kernel cache (`cache = kernel` keeps
    /// its decisions in the agent's own cache).
    public var ignoreMarks = IgnoreMarks.none

    public enum IgnoreMarks: String, Sendable {
        /// Evictable marks with FAN_MARK_IGNORE.
        case ignore
        /// Evictable marks with the legacy ignored mask (before 6.0).
        case legacy
        /// No evictable marks (before 5.19): no kernel cache.
        case none
    }

    /// Nothing granted yet (a group probes and sets each).
    public init() {}

    public var description: String {
        [("pidfd", pidfd), ("audit", audit), ("unlimited-queue", unlimitedQueue), ("open-exec-perm", openExecPerm),
         ("fd-error", fdError)]
            .map { "\($0.0)=\($0.1 ? "yes" : "no")" }.joined(separator: " ") + " ignore-marks=\(ignoreMarks.rawValue)"
    }
}
