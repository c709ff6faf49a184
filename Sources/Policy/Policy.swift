/// What a permission event asks: open or execute.
public enum Access: String, Sendable, Equatable {
    case open, execute
}

/// Which accesses a rule covers (`perm=`).
public enum Perm: String, Sendable, Equatable, CaseIterable {
    case open, execute, any

    public func covers(_ access: Access) -> Bool {
        switch (self, access) {
        case (.any, _), (.open, .open), (.execute, .execute): true
        default: false
        }
    }

    /// Whether every access `other` covers, this covers too.
    func covers(_ other: Perm) -> Bool { self == .any || self == other }
}

/// The kernel's answer to a permission event.
public enum Verdict: String, Sendable, Equatable {
    case allow, deny
}

/// A rule's decision: the verdict, and what else it asks for.
public enum RuleDecision: String, Sendable, Equatable, CaseIterable {
    case allow, deny
    case allowLog = "allow_log"
    case denyLog = "deny_log"
    /// Also a kernel audit record (FAN_AUDIT), naming the rule number.
    case allowAudit = "allow_audit"
    case denyAudit = "deny_audit"
    /// Asks a connected external client; without one, the answer is `on_no_client`.
    case ask

    /// The verdict, for all but `ask`.
    public var verdict: Verdict? {
        switch self {
        case .allow, .allowLog, .allowAudit: .allow
        case .deny, .denyLog, .denyAudit: .deny
        case .ask: nil
        }
    }

    public var logs: Bool { self == .allowLog || self == .denyLog }
    public var audits: Bool { self == .allowAudit || self == .denyAudit }
}

/// enforce: answer as decided. permissive: decide and log, but always allow.
/// observe: notification events only; decide and log as permissive, never block.
public enum Mode: String, Sendable, Equatable, CaseIterable {
    case enforce, permissive, observe
}

/// Where something stands in a policy file (1-based line and byte column).
public struct SourceLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// The agent's settings, with the defaults a policy file that names none gets.
public struct Settings: Sendable, Equatable {
    /// Paths whose whole filesystem is marked.
    public var watch: [[UInt8]] = []
    /// Paths whose mount alone is marked.
    public var watchMounts: [[UInt8]] = []
    public var mode: Mode = .enforce
    public var workers = 4
    public var prime = 2
    public var replyTimeout: Duration = .milliseconds(250)
    /// The answer to an open no worker decided in time.
    public var onTimeout: Verdict = .allow
    /// The answer to an execution no worker decided in time: deny, so that
    /// making a decision slow (a large binary to hash) never runs a program.
    public var onTimeoutExecute: Verdict = .deny
    public var queueSize = 4096
    public var onOverload: Verdict = .allow
    /// The answer to an execution that finds the queue full.
    public var onOverloadExecute: Verdict = .deny
    /// The answer to an open whose path the agent cannot learn (longer than
    /// PATH_MAX, or on a mount it cannot resolve) while a rule for opens tests the path.
    public var onUnknownPath: Verdict = .allow
    /// The same for an execution: deny, so an unreadable path never skips a `dir=` deny.
    public var onUnknownPathExecute: Verdict = .deny
    /// The verdict when no rule matches.
    public var defaultVerdict: Verdict = .allow
    /// The answer to `ask` while no external client is connected.
    public var onNoClient: Verdict = .allow
    /// Files larger than this are not hashed: sha256hash does not match them.
    public var hashMaxSize: UInt64 = 64 << 20
    /// Most decision log lines a second before similar ones are coalesced.
    public var logRate = 100
    /// Whether allows that depend on the file alone are cached in the kernel
    /// (ignore marks), and other decisions in the agent.
    public var cache: CacheMode = .kernel
    /// How many decisions the agent's own cache keeps.
    public var cacheSize = 4096

    public init() {}

    public func onTimeout(_ access: Access) -> Verdict { access == .execute ? onTimeoutExecute : onTimeout }
    public func onOverload(_ access: Access) -> Verdict { access == .execute ? onOverloadExecute : onOverload }
    public func onUnknownPath(_ access: Access) -> Verdict { access == .execute ? onUnknownPathExecute : onUnknownPath }

    /// The settings only a restart applies.
    public static let restartOnly: [(name: String, differs: @Sendable (Settings, Settings) -> Bool)] = [
        ("workers", { $0.workers != $1.workers }),
        ("prime", { $0.prime != $1.prime }),
        ("queue_size", { $0.queueSize != $1.queueSize }),
    ]
}

/// `cache = kernel`: an allow that no other process could get otherwise puts
/// an evictable ignore mark on the file's inode, so its further opens never
/// leave the kernel (until it is modified, or a reload), and every other
/// decision is kept in the agent's own cache. `user`: the agent's cache alone.
/// `off`: every access is decided.
public enum CacheMode: String, Sendable, Equatable, CaseIterable {
    case kernel, user, off
}

/// The facts about the process behind an event. nil: not known (the process
/// exited, /proc could not be read, or the policy never asks for it); a rule
/// that tests an unknown fact does not match.
public struct SubjectFacts: Sendable, Hashable {
    public var pid: Int32
    public var ppid: Int32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// Login uid (/proc/PID/loginuid); 4294967295 when unset.
    public var auid: UInt32?
    public var sessionid: UInt32?
    public var comm: [UInt8]?
    public var exe: [UInt8]?

    public init(pid: Int32, ppid: Int32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, auid: UInt32? = nil,
                sessionid: UInt32? = nil, comm: [UInt8]? = nil, exe: [UInt8]? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.gid = gid
        self.auid = auid
        self.sessionid = sessionid
        self.comm = comm
        self.exe = exe
    }
}

/// The facts about the file behind an event; nil as for `SubjectFacts`.
public struct ObjectFacts: Sendable, Hashable {
    public var path: [UInt8]?
    /// The source of the file's mount (a block device such as /dev/vda1, or tmpfs).
    public var device: [UInt8]?
    public var fstype: [UInt8]?
    public var size: UInt64?
    /// Lowercase hex SHA-256 of the contents.
    public var sha256: [UInt8]?

    public init(path: [UInt8]? = nil, device: [UInt8]? = nil, fstype: [UInt8]? = nil,
                size: UInt64? = nil, sha256: [UInt8]? = nil) {
        self.path = path
        self.device = device
        self.fstype = fstype
        self.size = size
        self.sha256 = sha256
    }
}

/// One access to decide: who, what, how.
public struct AccessRequest: Sendable, Equatable {
    public var access: Access
    public var subject: SubjectFacts
    public var object: ObjectFacts

    public init(access: Access, subject: SubjectFacts, object: ObjectFacts) {
        self.access = access
        self.subject = subject
        self.object = object
    }

    public init(access: Access, subject: SubjectFacts, path: [UInt8]?) {
        self.init(access: access, subject: subject, object: ObjectFacts(path: path))
    }
}

/// The facts a rule tests, which the agent gathers only when a rule that could
/// match the file tests them (the path is always known).
public struct Facts: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let pid = Facts(rawValue: 1 << 0)
    public static let ppid = Facts(rawValue: 1 << 1)
    public static let uid = Facts(rawValue: 1 << 2)
    public static let gid = Facts(rawValue: 1 << 3)
    public static let auid = Facts(rawValue: 1 << 4)
    public static let sessionid = Facts(rawValue: 1 << 5)
    public static let comm = Facts(rawValue: 1 << 6)
    public static let exe = Facts(rawValue: 1 << 7)
    public static let device = Facts(rawValue: 1 << 8)
    public static let fstype = Facts(rawValue: 1 << 9)
    public static let size = Facts(rawValue: 1 << 10)
    public static let sha256 = Facts(rawValue: 1 << 11)

    /// What a decision log entry shows of the subject.
    public static let logged: Facts = [.uid, .gid, .comm, .exe]
}

/// The attributes a rule can test, subject ones before the colon, object ones after.
public enum Attribute: String, Sendable, Equatable, Hashable, CaseIterable {
    case uid, gid, auid, sessionid, pid, ppid, comm, exe
    case exeDir = "exe_dir"
    case path, dir, device, fstype, sha256hash, size

    public var isSubject: Bool {
        switch self {
        case .uid, .gid, .auid, .sessionid, .pid, .ppid, .comm, .exe, .exeDir: true
        default: false
        }
    }

    enum Kind { case id, number, bytes, directory, hash }

    var kind: Kind {
        switch self {
        case .uid, .gid, .auid: .id
        case .sessionid, .pid, .ppid, .size: .number
        case .comm, .exe, .path, .device, .fstype: .bytes
        case .exeDir, .dir: .directory
        case .sha256hash: .hash
        }
    }

    /// The fact a test of this attribute reads ([] for the path, always known).
    var fact: Facts {
        switch self {
        case .uid: .uid
        case .gid: .gid
        case .auid: .auid
        case .sessionid: .sessionid
        case .pid: .pid
        case .ppid: .ppid
        case .comm: .comm
        case .exe, .exeDir: .exe
        case .device: .device
        case .fstype: .fstype
        case .size: .size
        case .sha256hash: .sha256
        case .path, .dir: []
        }
    }
}

/// How a test compares: `=` any of the values, `!=` none of them, or an order (numbers only).
public enum Comparison: String, Sendable, Equatable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case lessOrEqual = "<="
    case greaterOrEqual = ">="
    case less = "<"
    case greater = ">"
}

/// One value a test compares with.
public enum Pattern: Sendable, Equatable, Hashable {
    case number(UInt64)
    case bytes([UInt8])
    /// A directory prefix, ending in "/".
    case prefix([UInt8])
    case glob(Glob)
}

/// One attribute test of a rule: `attr=v1,v2`, `attr!=%set`, `size>4096`.
public struct Test: Sendable, Equatable, Hashable {
    public var attribute: Attribute
    public var comparison: Comparison
    public var values: [Pattern]

    public init(_ attribute: Attribute, _ comparison: Comparison = .equal, _ values: [Pattern]) {
        self.attribute = attribute
        self.comparison = comparison
        self.values = values
    }
}

/// One compiled rule: `decision perm=P subject : object`.
/// Empty `subject` or `object` lists mean `all`.
public struct Rule: Sendable, Equatable {
    /// 1-based position in the policy, as logs and audit records name it.
    public var number: Int
    public var decision: RuleDecision
    public var perm: Perm
    public var subject: [Test]
    public var object: [Test]
    public var location: SourceLocation
    /// The rule as written (comment and surrounding blanks removed).
    public var text: String

    public init(number: Int, decision: RuleDecision, perm: Perm, subject: [Test], object: [Test],
                location: SourceLocation, text: String) {
        self.number = number
        self.decision = decision
        self.perm = perm
        self.subject = subject
        self.object = object
        self.location = location
        self.text = text
    }
}

/// A checked policy: settings and rules, ready to evaluate. Immutable.
public struct Policy: Sendable {
    public let settings: Settings
    public let rules: [Rule]
    /// The file the policy came from, as errors and logs name it.
    public let source: String
    /// Warnings found while checking it (shadowed rules and the like).
    public let warnings: [PolicyDiagnostic]
    let index: RuleIndex

    public init(settings: Settings = Settings(), rules: [Rule] = [], source: String = "<none>",
                warnings: [PolicyDiagnostic] = []) {
        self.settings = settings
        self.rules = rules
        self.source = source
        self.warnings = warnings
        self.index = RuleIndex(rules)
    }

    /// A warning for a policy that watches nothing (no `watch` or
    /// `watch_mount`): an agent running it sees no access at all.
    public var watchesNothingWarning: PolicyDiagnostic? {
        guard settings.watch.isEmpty && settings.watchMounts.isEmpty else { return nil }
        return PolicyDiagnostic(location: SourceLocation(file: source, line: 0, column: 0), severity: .warning,
                                message: "the policy watches nothing (no watch or watch_mount setting): fanfilter would see no access")
    }

    /// Whether a rule for `access` tests the file's path: then a path the
    /// agent cannot learn is decided by `on_unknown_path`, never by the rules
    /// (which would skip every `dir=` deny).
    public func testsPath(for access: Access) -> Bool { index.pathTested[access == .open ? 0 : 1] }

    /// The facts tested by the rules that could match `path` for `access`:
    /// what the agent must learn of this event to decide it.
    public func neededFacts(for access: Access, path: [UInt8]?) -> Facts {
        var facts: Facts = []
        index.forEachCandidate(access, path: path) { n in
            facts.formUnion(index.ruleFacts[n])
            return true
        }
        return facts
    }
}

/// What the policy says of one request.
public struct Decision: Sendable, Equatable {
    public var verdict: Verdict
    /// The rule that decided, or nil when none matched (the `default` setting).
    public var rule: Rule?

    public init(verdict: Verdict, rule: Rule?) {
        self.verdict = verdict
        self.rule = rule
    }

    public var logs: Bool { rule?.decision.logs ?? false }
    public var audits: Bool { rule?.decision.audits ?? false }
    public var asks: Bool { rule?.decision == .ask }
}
