import AgentService
import ArgumentParser
import FilterPortClient
import Glibc
import Policy
import PortProtocol
import SystemPackage

extension Fanfilter {
    struct Monitor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each decision of a running agent as it is made.",
            discussion: """
            An observer connection: one line per answered event (verdict, access, path, \
            pid, and the rule, setting or client that decided), until interrupted. It \
            never slows the agent: when it falls behind, the agent drops entries for it \
            and the first line after the gap says how many were lost.
            """)
        @OptionGroup var port: PortOptions
        @Flag(help: "Print one JSON object per line.") var json = false
        @Flag(help: "Only decisions that deny (or would deny in permissive or observe mode).") var deniedOnly = false

        func run() throws {
            let client = try port.connect(as: .observer, name: "fanfilter-monitor", deniedOnly: deniedOnly)
            while true {
                let record: DecisionRecord?
                do { record = try client.nextDecision() } catch {
                    printError("fanfilter: \(error)")
                    throw ExitCode.failure
                }
                guard let record else { continue }
                // One write per line, unbuffered: `fanfilter monitor | grep …` sees each decision as it comes.
                let line = (json ? Self.json(record) : Self.line(record)) + "\n"
                _ = try? FileDescriptor.standardOutput.writeAll(line.utf8)
            }
        }

        static func line(_ r: DecisionRecord) -> String {
            var line = r.lost > 0 ? "(\(r.lost) decisions lost: this monitor fell behind)\n" : ""
            let verdict = r.verdict == .deny ? (r.notEnforced ? "would-deny" : "deny") : "allow"
            line += "\(verdict) \(r.access == .execute ? "execute" : "open") \(printable(r.path)) pid=\(r.pid) by=\(source(r))"
            return line
        }

        static func json(_ r: DecisionRecord) -> String {
            JSONText.object([
                ("sequence", "\(r.sequence)"), ("lost", "\(r.lost)"),
                ("verdict", JSONText.string(r.verdict == .deny ? "deny" : "allow")),
                ("enforced", r.notEnforced ? "false" : "true"),
                ("access", JSONText.string(r.access == .execute ? "execute" : "open")),
                ("path", JSONText.string(String(decoding: r.path, as: UTF8.self))), ("pid", "\(r.pid)"),
                ("by", JSONText.string(source(r))), ("rule", "\(r.rule)"),
            ])
        }

        static func source(_ r: DecisionRecord) -> String {
            switch r.source {
            case .rule: "rule \(r.rule)"
            case .noRule: "default"
            case .client: "client \(String(decoding: r.client, as: UTF8.self))"
            case .timeout: "on_timeout"
            case .overload: "on_overload"
            case .noClient: "on_no_client"
            case .disconnect: "on_disconnect"
            case .unknownPath: "on_unknown_path"
            }
        }
    }
}
