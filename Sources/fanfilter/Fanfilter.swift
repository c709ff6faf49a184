import ArgumentParser
import Dispatch
import FanFilter
import Glibc
import Logging
import Policy

@main
struct Fanfilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanfilter",
        abstract: "Decide file opens and executions with fanotify permission events.",
        discussion: """
        fanfilter marks the filesystems a policy names and answers every open and \
        execution on them, allow or deny, within the policy's reply_timeout. \
        See `fanfilter run --help` and `fanfilter check --help`.
        """,
        subcommands: [Run.self, Check.self]
    )
}

/// Where the policy comes from: a file, or the default built into the binary.
struct PolicySource: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The policy file. Without it, the built-in default policy (the shipped fanfilter.policy) is used.",
        valueName: "file"))
    var policy: String?

    static let builtInName = "<built-in default policy>"

    func load() throws(PolicyError) -> Policy {
        guard let policy else { return try Policy.parse(PackageResources.fanfilter_policy, file: Self.builtInName) }
        return try Policy.load(path: policy)
    }
}

/// Writes `text` and a newline to standard error.
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

extension Fanfilter {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the agent in the foreground until SIGTERM or SIGINT.",
            discussion: """
            Must run as root (fanotify permission events need CAP_SYS_ADMIN). The agent \
            marks every path the policy's `watch` (whole filesystem) and `watch_mount` \
            (one mount) settings name, then decides each open and execution there. \
            Decisions from *_log rules, and denials that permissive mode turned into \
            allows, are logged to standard error, one line each.

            On SIGTERM or SIGINT it stops reading events, answers every event in flight \
            (within reply_timeout), closes the fanotify group, prints its counters and \
            exits 0.

            Exit status: 0 after a clean stop; 78 (EX_CONFIG) when the policy is invalid; \
            1 when fanotify cannot be set up (not root, an unwatchable path).
            """
        )

        @OptionGroup var source: PolicySource

        func run() throws {
            let policy: Policy
            do { policy = try source.load() } catch {
                printError("\(error)")
                printError("fanfilter: refusing to start: the policy has errors")
                throw ExitCode(78)
            }
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            var logger = Logger(label: "fanfilter")
            logger.logLevel = .info

            let agent: Agent
            do { agent = try Agent(policy: policy, logger: logger) } catch {
                printError("fanfilter: \(error)")
                throw ExitCode.failure
            }
            let stop = DispatchSemaphore(value: 0)
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT, SIGHUP] {
                signal(sig, SIG_IGN)
                let s = DispatchSource.makeSignalSource(signal: sig)
                s.setEventHandler {
                    if sig == SIGHUP {
                        logger.warning("SIGHUP: live reload is not available yet; restart fanfilter to apply a new policy")
                    } else {
                        stop.signal()
                    }
                }
                s.resume()
                sources.append(s)
            }
            agent.start()
            let watched = agent.watched.map { "\(printable($0.path)) (\($0.scope))" }.joined(separator: ", ")
            logger.info("started: policy \(policy.source), \(policy.rules.count) rules, mode \(policy.settings.mode.rawValue); watching \(watched.isEmpty ? "nothing" : watched); kernel: \(agent.features)")
            stop.wait()
            logger.info("stopping: answering the events in flight")
            agent.stop()
            logger.info("stopped: \(agent.counters.summary)")
            _ = sources
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a policy file and report every error with FILE:LINE:COL.",
            discussion: """
            Needs neither root nor fanotify. Prints each problem as \
            `FILE:LINE:COL: error: message` on standard error and exits 1, or prints a \
            summary and exits 0.
            """
        )

        @Argument(help: ArgumentHelp("The policy file to check (same as --policy).", valueName: "file"))
        var file: String?

        @OptionGroup var source: PolicySource

        func validate() throws {
            if file != nil && source.policy != nil {
                throw ValidationError("give the policy file once: as an argument or with --policy")
            }
        }

        func run() throws {
            var source = self.source
            source.policy = source.policy ?? file
            let policy: Policy
            do { policy = try source.load() } catch {
                printError("\(error)")
                let count = error.diagnostics.count
                printError("\(error.diagnostics.first?.location.file ?? "policy"): \(count) error\(count == 1 ? "" : "s")")
                throw ExitCode.failure
            }
            let s = policy.settings
            print("\(policy.source): ok: \(policy.rules.count) rule\(policy.rules.count == 1 ? "" : "s"), "
                  + "\(s.watch.count + s.watchMounts.count) watched path\(s.watch.count + s.watchMounts.count == 1 ? "" : "s"), "
                  + "mode \(s.mode.rawValue), \(s.workers) workers, reply_timeout \(s.replyTimeout), "
                  + "on_timeout \(s.onTimeout.rawValue), queue_size \(s.queueSize), on_overload \(s.onOverload.rawValue)")
        }
    }
}
