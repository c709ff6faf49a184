/// Journal field names of fanfilter's entries.
public enum Field {
    public static let messageID = "MESSAGE_ID"
    public static let decision = "FANFILTER_DECISION"
    public static let perm = "FANFILTER_PERM"
    public static let path = "FANFILTER_PATH"
    /// The path the opener used, when the agent decided on another (a mount outside its own view).
    public static let openedAs = "FANFILTER_OPENED_AS"
    public static let rule = "FANFILTER_RULE"
    public static let ruleNumber = "FANFILTER_RULE_NUMBER"
    public static let subjectPID = "FANFILTER_SUBJECT_PID"
    public static let subjectExe = "FANFILTER_SUBJECT_EXE"
    public static let subjectComm = "FANFILTER_SUBJECT_COMM"
    public static let subjectUID = "FANFILTER_SUBJECT_UID"
    public static let subjectGID = "FANFILTER_SUBJECT_GID"
    public static let portMessageID = "FANFILTER_PORT_MESSAGE_ID"
    public static let latency = "FANFILTER_LATENCY_US"
    public static let suppressed = "FANFILTER_SUPPRESSED"
    public static let dropped = "FANFILTER_DROPPED"
    /// The setting that gave the answer when no rule did (on_timeout_execute, on_unknown_path, …).
    public static let setting = "FANFILTER_SETTING"
    /// The name of the socket port's client that decided (its hello's name).
    public static let client = "FANFILTER_CLIENT"

    /// The fields whose values make entries "similar" for coalescing.
    static let coalescing = [decision, rule, subjectExe, path]
}
