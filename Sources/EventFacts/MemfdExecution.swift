import Glibc
import Policy

/// Fileless execution: a program written to a memfd and executed raises no
/// fanotify event (no watched filesystem holds it). The kernel can refuse
/// executable memfds (`vm.memfd_noexec = 2`, Linux 6.3 and later); this tells
/// which setting is in force and whether a policy is exposed to it.
///
/// Guarantee: reading the setting never waits (one small /proc read), and an
/// unreadable setting is reported as unknown, never as safe.
public enum MemfdExecution {
    /// Where the setting lives (absent before Linux 6.3).
    public static let sysctlPath = "/proc/sys/vm/memfd_noexec"

    /// The drop-in the package ships, disabled, for an administrator to enable.
    public static let dropIn = "/usr/share/fanfilter/sysctl/50-fanfilter-memfd-noexec.conf"

    /// `vm.memfd_noexec` now: 0 (memfds executable), 1 (not executable
    /// unless asked for), 2 (never executable); nil where the kernel has none.
    public static func setting(at path: String = sysctlPath) -> Int? {
        ProcFacts.readNumber(path).map(Int.init)
    }

    /// `warning` as `fanfilter check` reports it, at the first rule that allow-lists executions.
    public static func diagnostic(for policy: Policy, setting: Int? = setting()) -> PolicyDiagnostic? {
        guard let rule = policy.executionAllowListRule, let text = warning(for: policy, setting: setting) else { return nil }
        return PolicyDiagnostic(location: rule.location, severity: .warning, message: text)
    }

    /// For the start line and `status`: `memfd-noexec=N`, or `unknown`.
    public static func summary(setting: Int? = setting()) -> String {
        "memfd-noexec=\(setting.map(String.init) ?? "unknown")"
    }

    /// A warning when `policy` allow-lists executions (a rule for executions
    /// tests trust or a digest) while memfds may be executed: such a program
    /// runs past every rule. nil when there is nothing to say.
    public static func warning(for policy: Policy, setting: Int? = setting()) -> String? {
        guard policy.executionAllowListRule != nil, setting != 2 else { return nil }
        let now = setting.map { "vm.memfd_noexec = \($0)" } ?? "this kernel has no vm.memfd_noexec (Linux 6.3 and later)"
        return "a program written to a memfd and executed raises no event, so it runs past this policy's rules for executions "
            + "(\(now)); set vm.memfd_noexec = 2 to refuse executable memfds: ln -s \(dropIn) /etc/sysctl.d/ && sysctl --system"
    }
}
