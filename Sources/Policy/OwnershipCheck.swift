#if canImport(Glibc)
import Glibc
#endif

/// What loading a policy does about a file that is not owned by root or is
/// writable by group or others (sshd's StrictModes).
public enum OwnershipCheck: Sendable {
    /// Refuse the policy (the agent).
    case refuse
    /// Report it as a warning (`fanfilter check`).
    case warn
    /// Do not look (tests, the built-in policy).
    case ignore
}
