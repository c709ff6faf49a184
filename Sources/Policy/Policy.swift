/// What a permission event asks: open or execute.
public enum Access: Sendable, Equatable {
    case open
    case execute
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
}

/// The kernel's answer to a permission event.
public enum Verdict: String, Sendable, Equatable {
    case allow, deny
}

/// A rule's decision: the verdict, and whether the decision is logged.
public enum RuleDecision: String, Sendable, Equatable, CaseIterable {
    case allow, deny
    case allowLog = "allow_log"
    case denyLog = "deny_log"

    public var verdict: Verdict {
        switch self {
        case .allow, .allowLog: .allow
        case .deny, .denyLog: .deny
        }
    }

    public var logs: Bool { self == .allowLog || self == .denyLog }
}

/// enforce: answer as decided. permissive: decide and log, but always allow.
public enum Mode: String, Sendable, Equatable {
    case enforce, permissive
}

/// Where something stands in a policy file (1-based line and byte column).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
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
    public var onTimeout: Verdict = .allow
    public var queueSize = 4096
    public var onOverload: Verdict = .allow

    public init() {}
}

/// The facts about the process behind an event. nil: not known (the process
/// exited, or /proc could not be read); a rule that tests an unknown fact does not match.
public struct SubjectFacts: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32?
    public var gid: UInt32?
    public var comm: [UInt8]?
    public var exe: [UInt8]?

    public init(pid: Int32, uid: UInt32? = nil, gid: UInt32? = nil, comm: [UInt8]? = nil, exe: [UInt8]? = nil) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.comm = comm
        self.exe = exe
    }
}

/// One access to decide: who, what, how. `path` is nil when it could not be resolved.
public struct AccessRequest: Sendable, Equatable {
    public var access: Access
    public var subject: SubjectFacts
    public var path: [UInt8]?

    public init(access: Access, subject: SubjectFacts, path: [UInt8]?) {
        self.access = access
        self.subject = subject
        self.path = path
    }
}

/// One subject attribute test, `attr=v1,v2` (any of) or `attr!=v1,v2` (none of).
public enum SubjectAttribute: Sendable, Equatable {
    case uid([UInt32])
    case gid([UInt32])
    case pid([Int32])
    case comm([[UInt8]])
    case exe([[UInt8]])
}

/// One object attribute test.
public enum ObjectAttribute: Sendable, Equatable {
    case path([[UInt8]])
    /// Directory prefixes, each ending in "/".
    case dir([[UInt8]])
}

/// A test and whether it is negated (`!=`).
public struct Test<Attribute: Sendable & Equatable>: Sendable, Equatable {
    public var attribute: Attribute
    public var negated: Bool

    public init(attribute: Attribute, negated: Bool) {
        self.attribute = attribute
        self.negated = negated
    }
}

/// One compiled rule: `decision perm=P subject : object`.
/// Empty `subject` or `object` lists mean `all`.
public struct Rule: Sendable, Equatable {
    /// 1-based position in the policy, as logs name it.
    public var number: Int
    public var decision: RuleDecision
    public var perm: Perm
    public var subject: [Test<SubjectAttribute>]
    public var object: [Test<ObjectAttribute>]
    public var location: SourceLocation
    /// The rule as written (comment and surrounding blanks removed).
    public var text: String
}

/// A checked policy: settings and rules, ready to evaluate. Immutable.
public struct Policy: Sendable, Equatable {
    public var settings: Settings
    public var rules: [Rule]
    /// The file the policy came from, as errors and logs name it.
    public var source: String

    public init(settings: Settings = Settings(), rules: [Rule] = [], source: String = "<none>") {
        self.settings = settings
        self.rules = rules
        self.source = source
    }
}

/// What the policy says of one request.
public struct Decision: Sendable, Equatable {
    public var verdict: Verdict
    /// Whether the decision is to be logged (a _log rule).
    public var logs: Bool
    /// The rule that decided, or nil when none matched (the default: allow).
    public var rule: Rule?

    public init(verdict: Verdict, logs: Bool, rule: Rule?) {
        self.verdict = verdict
        self.logs = logs
        self.rule = rule
    }
}
