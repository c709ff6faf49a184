/// The journal's MESSAGE_ID of each kind of entry fanfilter writes: fixed
/// 128-bit ids, explained in systemd/fanfilter.catalog (`journalctl -x`).
public enum MessageID: String, Sendable, CaseIterable {
    case accessDenied = "5ff9ce5337e04d65a849e0eb560f125b"
    case accessAllowedLogged = "124fd286e5bf4ae5a7662cc213fead8a"
    case wouldDeny = "c85a1025bac04eebb9fefabac2607b25"
    case replyTimedOut = "4b0eda723644470990fe12d9794baea6"
    case overload = "683db364adb347c98bdeb8bacf9b588e"
    case pathUnknown = "8d1f0c2a5b7e4c39a6e2f4d1c0b9a873"
    case policyLoaded = "67268b710b7c45519f8135cc78faa67a"
    case policyRejected = "e60d32656c83427d95073a620f41dc6b"
    case agentStarted = "045bfa20381d4fedb8cac144b1705902"
    case agentStopping = "493983e6329146be90fdd36cbb8a2d62"
    case clientConnected = "d995e257d87f4dc3bce7ffa6b96cb67a"
    case clientDisconnected = "86e6b9550436420daa76f2115b39fe65"
    case entriesSuppressed = "b666b1d82e534380a5ce2e64f99dcb07"
    case entriesDropped = "3f130631260f420f90ea1ae5736a2764"
}

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

    /// The fields whose values make entries "similar" for coalescing.
    static let coalescing = [decision, rule, subjectExe, path]
}

/// A log metadata value that keeps its bytes as they are (a path that is not
/// UTF-8, or holds a newline): the journal gets them unchanged, stderr escaped.
public struct RawBytes: CustomStringConvertible, Sendable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
