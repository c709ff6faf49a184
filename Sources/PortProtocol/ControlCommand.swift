/// A client-to-filter request (FilterSendMessage), answered by a control reply.
public enum ControlCommand: UInt32, Sendable, CaseIterable {
    /// JSON: counters, uptime, policy, mode, kernel features, clients.
    case status = 1
    /// Reads the policy file again; the reply says loaded, or the errors with FILE:LINE:COL.
    case reload = 2
    /// The argument is a mode (enforce, permissive, observe); it holds until the next restart.
    case setMode = 3
    /// Drops every cached decision, the kernel's and the agent's.
    case flushCaches = 4
    /// JSON: the connected clients, their names, roles and in-flight counts.
    case clients = 5
    /// The agent's metrics in Prometheus' text format (what `metrics_file` holds).
    case metrics = 6
    /// The argument is an absolute path: the agent reads the regular file as its own
    /// process (which its policy never denies) and answers `SIZE SHA256 PATH`, the
    /// path as the kernel names it (for `fanfilter trust add` of a file the policy denies).
    case measure = 7
}
