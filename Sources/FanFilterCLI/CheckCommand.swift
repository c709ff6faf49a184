import AgentService
import ArgumentParser
import EventFacts
import Policy

extension Fanfilter {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a policy and report every problem with FILE:LINE:COL.",
            discussion: """
            Needs neither root nor fanotify. Reads the policy as `fanfilter run` would \
            (with its includes and its policy.d/ folder) and prints each problem as \
            `FILE:LINE:COL: error: message` (or `warning:`) on standard error, followed \
            by the line and a caret under the column, then a summary on standard output.

            Warnings: a rule that can never match because an earlier rule matches \
            everything it does (shadowed), a duplicate rule, a dir= value without a \
            trailing /, a policy file not owned by root or writable by group or others \
            (which `fanfilter run` refuses), a policy that watches nothing, and a FIFO, \
            socket or device node that a rule's path= names or its dir= folder holds \
            (the kernel raises no permission event for those, so no rule decides them).

            Exit status: 0 when there are no errors (and, with --strict, no warnings); \
            1 when there are errors; 2 when there are warnings only and --strict is given.
            """
        )

        @OptionGroup var policyFile: PolicyFileArguments

        @Flag(help: "Exit 2 when there are warnings.")
        var strict = false

        @Flag(help: "Print one JSON object on standard output instead of text.")
        var json = false

        func run() throws {
            let source = policyFile.resolved
            let name = source.policy ?? PolicySource.builtInName
            let policy: Policy?
            let diagnostics: [PolicyDiagnostic]
            do {
                let p = try source.load(ownership: .warn)
                policy = p
                diagnostics = (p.watchesNothingWarning.map { [$0] } ?? []) + p.warnings + p.specialFileWarnings()
                    + (MemfdExecution.diagnostic(for: p).map { [$0] } ?? [])
            } catch {
                policy = nil
                diagnostics = error.diagnostics
            }
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.count - errors
            if json {
                print(jsonReport(name, policy, diagnostics))
            } else {
                for d in diagnostics {
                    printError("\(d)")
                    if let line = source.line(d.location), d.location.column > 0 {
                        printError("    " + printable(line))
                        let prefix = line.prefix(d.location.column - 1)
                        printError("    " + String(repeating: " ", count: printable(prefix).count) + "^")
                    }
                }
                if let policy {
                    let s = policy.agent
                    let watches = s.watch.count + s.watchMounts.count
                    print("\(name): ok: \(plural(policy.rules.count, "rule")), \(plural(watches, "watched path")), "
                          + "mode \(s.mode.rawValue), \(s.workers) workers, reply_timeout \(s.replyTimeout), "
                          + "on_timeout \(s.onTimeout.rawValue), queue_size \(s.queueSize), on_overload \(s.onOverload.rawValue)"
                          + (warnings > 0 ? "; \(plural(warnings, "warning"))" : ""))
                } else {
                    printError("\(name): \(plural(errors, "error"))" + (warnings > 0 ? ", \(plural(warnings, "warning"))" : ""))
                }
            }
            if errors > 0 { throw ExitCode.failure }
            if strict && warnings > 0 { throw ExitCode(2) }
        }

        func jsonReport(_ name: String, _ policy: Policy?, _ diagnostics: [PolicyDiagnostic]) -> String {
            let items = diagnostics.map { d in
                "{\"file\":\(JSONText.string(d.location.file)),\"line\":\(d.location.line),\"column\":\(d.location.column),"
                    + "\"severity\":\"\(d.severity.rawValue)\",\"message\":\(JSONText.string(d.message))}"
            }
            return "{\"policy\":\(JSONText.string(name)),\"ok\":\(policy != nil),\"rules\":\(policy?.rules.count ?? 0),"
                + "\"diagnostics\":[\(items.joined(separator: ","))]}"
        }
    }
}

