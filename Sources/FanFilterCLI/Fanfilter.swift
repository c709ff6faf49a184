import ArgumentParser
import Glibc
import Policy

@main
struct Fanfilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanfilter",
        abstract: "Decide file opens and executions with fanotify permission events.",
        discussion: """
        fanfilter marks the filesystems a policy names and answers every open and \
        execution on them, allow or deny, within the policy's reply_timeout. The \
        policy is one file (default /etc/fanfilter/policy when installed) in \
        fapolicyd's rule language: `decision perm=P subject : object`, first match wins.
        """,
        version: fanfilterVersion,
        subcommands: [Run.self, Check.self, Explain.self, Rules.self, Ftype.self, Trust.self, ImportFapolicyd.self, Status.self, Reload.self, Clients.self, Monitor.self, SetMode.self, Flush.self, Metrics.self]
    )
}

/// The release this binary is (`fanfilter --version`).
let fanfilterVersion = "0.5.0"

/// Writes `text` and a newline to standard error.
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
