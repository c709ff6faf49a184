import AgentLog

/// Where the running agent's log entries go.
public enum LogTarget: String, CaseIterable, Sendable {
    /// The systemd journal, with structured fields.
    case journal
    /// Standard error, one readable line each.
    case stderr
    /// The journal when standard error is connected to it (as under systemd), else standard error.
    case auto

    var toJournal: Bool { self == .journal || (self == .auto && JournalSink.stderrIsJournal) }

    /// What `--help` says of the option.
    public static let help = "Where log entries go: the systemd journal (structured fields), stderr (readable lines), or auto: the journal when stderr is connected to it (as under systemd), else stderr."
}
