/// The agent's own settings, as fapolicyd keeps fapolicyd.conf apart from
/// its rules: what it watches, how it runs, and what it answers when no
/// decision comes. Written in the policy file with the same `key = value`
/// syntax; the defaults are those of a policy file that names none.
public struct AgentSettings: Sendable, Equatable {
    /// Paths whose whole filesystem is marked.
    public var watch: [[UInt8]] = []
    /// Paths whose mount alone is marked.
    public var watchMounts: [[UInt8]] = []
    /// Filesystem types (fapolicyd's `watch_fs`): every filesystem of one of
    /// them is marked, those mounted later too, as the mounts come and go.
    public var watchTypes: [[UInt8]] = []
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
    /// While the queue is at least half full, the most events one user (real
    /// uid) may add to it (nil: a quarter of the queue; 0: no bound).
    public var queuePerUser: Int?
    public var onOverload: Verdict = .allow
    /// The answer to an execution that finds the queue full.
    public var onOverloadExecute: Verdict = .deny
    /// Most decision log lines a second before similar ones are coalesced.
    public var logRate = 100
    /// Whether allows that depend on the file alone are cached in the kernel
    /// (ignore marks), and other decisions in the agent.
    public var cache: CacheMode = .kernel
    /// How many decisions the agent's own cache keeps.
    public var cacheSize = 4096
    /// Whether waiting threads may spin before they sleep.
    public var spin: SpinMode = .auto
    /// How far the threads every opener waits for (the event reader, the
    /// workers, the spill threads) run above the default priority: their
    /// nice value is minus this (fapolicyd's `nice_val`). Hashing in the
    /// background and the agent's other threads keep the default. 10 by
    /// default (fapolicyd runs at -14, auditd at -4).
    public var priorityBoost = 10
    /// Where the agent writes its metrics for node_exporter's textfile collector (nil: nowhere).
    public var metricsFile: [UInt8]?
    /// How often the metrics file is written.
    public var metricsInterval: Duration = .seconds(15)
    /// Where the socket port listens for clients (nil: `port_socket = none`, no socket).
    public var portSocket: [UInt8]? = Array("/run/fanfilter/port".utf8)
    /// The group (name or number) whose members may connect besides root (nil: root only).
    public var portGroup: String?
    /// The most decider clients connected at once.
    public var maxConnections = 4
    /// How many of a file's first bytes an `ask` message carries.
    public var contentBytes = 1024
    /// Whether an `ask` message also carries a read-only descriptor of the file.
    public var passDescriptor = false

    public init() {}

    /// The bound on one user's events for a queue of `capacity` (0: none).
    public func perUserBound(queueCapacity capacity: Int) -> Int { queuePerUser ?? max(1, capacity / 4) }

    public func onTimeout(_ access: Access) -> Verdict { access == .execute ? onTimeoutExecute : onTimeout }
    public func onOverload(_ access: Access) -> Verdict { access == .execute ? onOverloadExecute : onOverload }

    /// The settings only a restart applies.
    public static let restartOnly: [(name: String, differs: @Sendable (AgentSettings, AgentSettings) -> Bool)] = [
        ("workers", { $0.workers != $1.workers }),
        ("prime", { $0.prime != $1.prime }),
        ("queue_size", { $0.queueSize != $1.queueSize }),
        ("metrics_file", { $0.metricsFile != $1.metricsFile }),
        ("metrics_interval", { $0.metricsInterval != $1.metricsInterval }),
        ("port_socket", { $0.portSocket != $1.portSocket }),
        ("port_group", { $0.portGroup != $1.portGroup }),
        ("max_connections", { $0.maxConnections != $1.maxConnections }),
        ("priority_boost", { $0.priorityBoost != $1.priorityBoost }),
    ]
}
