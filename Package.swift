// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "fanfilter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fanfilter", targets: ["FanFilterCLI"]),
        // The agent as the service runs it: no swift-argument-parser, no Foundation.
        .executable(name: "fanfilterd", targets: ["fanfilterd"]),
        // What a separate Swift program depends on to be a client of the agent's socket port.
        .library(name: "FilterPortClient", targets: ["FilterPortClient", "PortProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Thin C wrappers over the fanotify macros and structs Swift cannot reach.
        .target(name: "CFanotify"),
        // The one monotonic clock (and the protocol tests use to move time by hand).
        .target(name: "Clocks"),
        // The system calls swift-system's FileDescriptor does not make whole, and SystemCallError,
        // the one error of a failed call (what was done, and its Errno); EINTR is retried. Files
        // read or replaced whole, opened to read facts, folders walked.
        .target(name: "SystemCall", dependencies: [.product(name: "SystemPackage", package: "swift-system")]),
        // The minifilter-style communication port: send with timeout, get/reply by message id.
        .target(name: "FilterPort", dependencies: [
            "Clocks",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "HeapModule", package: "swift-collections"),
        ]),
        // The socket port's wire format: frames, their encoding and checked decoding (no I/O).
        .target(name: "PortProtocol"),
        // Thin wrappers over the Unix-socket calls Swift cannot reach (sockaddr_un, SCM_RIGHTS, SO_PEERCRED).
        .target(name: "CPortSocket"),
        // One SOCK_SEQPACKET connection: whole frames in and out, with deadlines.
        .target(name: "PortTransport", dependencies: [
            "CPortSocket", "Clocks", "PortProtocol", "SystemCall", .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The agent's end of the socket port: access checks, connections, observers, control requests.
        .target(name: "PortServer", dependencies: [
            "CPortSocket", "Clocks", "FilterPort", "PortProtocol", "PortTransport", "SystemCall",
            .product(name: "SystemPackage", package: "swift-system"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A client program's end: connect, prime, get, reply, control, monitor.
        .target(name: "FilterPortClient", dependencies: [
            "PortProtocol", "PortTransport", "Clocks",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // libsystemd (sd_journal_sendv, sd_notify), found with pkg-config.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // Logging that never blocks the event path: a bounded queue, the journal or stderr behind it.
        .target(name: "AgentLog", dependencies: [
            "CSystemd", "Clocks",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // libmagic, found with pkg-config.
        .systemLibrary(name: "CMagic", pkgConfig: "libmagic", providers: [.apt(["libmagic-dev"])]),
        // A file's MIME type as fapolicyd's ftype names it: ELF headers, #! lines, libmagic.
        .target(name: "FileType", dependencies: ["CMagic", "SystemCall", .product(name: "SystemPackage", package: "swift-system")]),
        // LMDB, found with pkg-config.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        // The trust database: LMDB built from dpkg, rpm and trust files, read without locks.
        .target(name: "TrustStore", dependencies: ["CLMDB", "CVerity", "SystemCall", .product(name: "SystemPackage", package: "swift-system")]),
        // fs-verity's measurement ioctl (a C shim: ioctl is variadic).
        .target(name: "CVerity"),
        // The policy file: parser, compiled rules, evaluator.
        .target(name: "Policy", dependencies: ["SystemCall", .product(name: "SystemPackage", package: "swift-system")]),
        // What the agent counts (events, answers, hashes, cache hits) and its latency histograms:
        // atomics any thread adds to without a lock, read by `status` and the metrics.
        .target(name: "AgentCounts"),
        // The kernel side: the fanotify group and its marks, the mounts it follows, the
        // kernel's ignore-mark cache, and the one response each event gets.
        .target(name: "Fanotify", dependencies: [
            "AgentCounts", "AgentLog", "CFanotify", "Clocks", "Policy", "SystemCall",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The facts a decision rests on, each known now or "would wait": the subject from
        // /proc, the object's path, identity, type and digests, trust, start patterns.
        .target(name: "EventFacts", dependencies: [
            "AgentCounts", "CFanotify", "Clocks", "Fanotify", "FileType", "Policy", "SystemCall", "TrustStore",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // Deciding an event: the policy in force, its caches, the workers that learn the facts
        // and decide, what an `ask` rule sends a decider, and the decision's log line.
        .target(name: "Deciding", dependencies: [
            "AgentCounts", "AgentLog", "CFanotify", "Clocks", "EventFacts", "Fanotify", "FilterPort", "Policy",
            "PortProtocol", "PortServer", "SystemCall", "TrustStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The agent: where an event enters (EventReader), is handed to the deciders over the
        // one port, and is answered (Settlement); start, reload and stop (Agent).
        .target(name: "FanFilter", dependencies: [
            "AgentCounts", "AgentLog", "CFanotify", "CSystemd", "Clocks", "Deciding", "EventFacts", "Fanotify",
            "FilterPort", "Policy", "PortProtocol", "PortServer", "SystemCall", "TrustStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The agent's numbers for Prometheus: swift-metrics with swift-prometheus behind it,
        // written for node_exporter's textfile collector off the event path.
        .target(name: "AgentMetrics", dependencies: [
            "AgentCounts", "Deciding", "FanFilter", "Clocks", "SystemCall", .product(name: "SystemPackage", package: "swift-system"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The agent as a service: policy, port, signals, control requests, reloads (what `run` runs).
        .target(
            name: "AgentService",
            dependencies: [
                "AgentCounts", "EventFacts", "FanFilter", "Fanotify", "Policy", "AgentLog", "AgentMetrics", "PortProtocol", "PortServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("fanfilter.policy")]
        ),
        // The daemon, built as the `fanfilterd` binary the unit starts: AgentService behind a hand-read command line.
        .executableTarget(name: "fanfilterd", dependencies: ["AgentService"]),
        // The command line, built as the `fanfilter` binary: run, check, explain, rules.
        .executableTarget(
            name: "FanFilterCLI",
            dependencies: [
                "SystemCall", .product(name: "SystemPackage", package: "swift-system"),
                "AgentService", "EventFacts", "Fanotify", "Policy", "AgentLog", "AgentMetrics", "PortProtocol", "PortServer", "FilterPortClient", "TrustStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make bench-policy`: ns per decision for 10, 1,000 and 10,000 rules.
        .executableTarget(name: "fanfilter-policy-bench", dependencies: ["Policy"], path: "bench/policy"),
        // Examples/scanner: a decider for `ask` rules after the WDK scanner sample (the port's integration test).
        .executableTarget(name: "fanfilter-scanner", dependencies: ["FilterPortClient", "PortProtocol"], path: "Examples/scanner"),
        // Examples/clamd: a decider that has a running clamd scan each file (FILDES), scans side by side.
        .executableTarget(name: "fanfilter-clamd", dependencies: ["FilterPortClient", "PortProtocol", "CPortSocket"],
                          path: "Examples/clamd"),
        // The Swift client's side of the port's conformance checks (Tests/PortClients/conformance.py is Python's).
        .executableTarget(name: "fanfilter-port-conformance", dependencies: ["FilterPortClient", "PortProtocol"],
                          path: "Tests/PortConformance"),
        // A child process the kernel tests use as the opener (the agent allows its own process).
        .executableTarget(name: "fanfilter-test-opener", path: "Tests/Opener"),
        .testTarget(name: "FilterPortTests", dependencies: ["Clocks", "FilterPort", "TestSupport"]),
        .testTarget(name: "SystemCallTests", dependencies: ["SystemCall", .product(name: "SystemPackage", package: "swift-system")]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy"]),
        .testTarget(name: "FileTypeTests", dependencies: ["FileType"]),
        .testTarget(name: "TrustStoreTests", dependencies: ["TrustStore"]),
        .testTarget(name: "PortProtocolTests", dependencies: ["PortProtocol"]),
        .testTarget(name: "PortTransportTests", dependencies: ["PortTransport"]),
        .testTarget(name: "PortServerTests", dependencies: [
            "PortServer", "PortProtocol", "PortTransport", "Clocks", "FilterPort", "SystemCall", "TestSupport", "fanfilter-port-conformance",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "FilterPortClientTests", dependencies: [
            "FilterPortClient", "PortServer", "PortProtocol", "FilterPort", "TestSupport",
        ]),
        .testTarget(name: "AgentServiceTests", dependencies: ["AgentService"]),
        .testTarget(name: "AgentLogTests", dependencies: ["AgentLog", .product(name: "Logging", package: "swift-log")]),
        // What the kernel and command-line tests share: a private tmpfs, child processes with
        // bounded waits, the agent under test, a log that keeps what it is given.
        .target(name: "TestSupport", dependencies: [
            "Clocks", "FanFilter", "Fanotify", "Policy", "FilterPort", "PortServer", "SystemCall",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ], path: "Tests/TestSupport"),
        .testTarget(name: "FanotifyTests", dependencies: ["AgentCounts", "Fanotify", "TestSupport"]),
        .testTarget(name: "EventFactsTests", dependencies: ["EventFacts", "Fanotify", "Policy", "TestSupport"]),
        .testTarget(name: "DecidingTests", dependencies: ["AgentCounts", "Deciding", "Policy", "TestSupport"]),
        .testTarget(name: "FanFilterTests", dependencies: [
            "AgentCounts", "Clocks", "Deciding", "EventFacts", "FanFilter", "Fanotify", "Policy", "FilterPort", "TestSupport", "fanfilter-test-opener",
            "PortServer", "PortProtocol", "PortTransport", "fanfilter-scanner", "fanfilter-port-conformance", "fanfilter-clamd",
            "TrustStore",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .testTarget(name: "FanFilterCLITests", dependencies: ["TestSupport", "FanFilterCLI", "fanfilter-test-opener", "PortProtocol"]),
        .testTarget(name: "AgentMetricsTests", dependencies: ["AgentCounts", "AgentMetrics", "FanFilter", "Policy", "TestSupport"]),
    ]
)
