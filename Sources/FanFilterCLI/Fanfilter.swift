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
        subcommands: [Run.self, Check.self, Explain.self, Rules.self]
    )
}

/// The release this binary is (`fanfilter --version`).
let fanfilterVersion = "0.5.0"

/// Where the policy comes from: a file, or the default built into the binary.
struct PolicySource: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The policy file. Without it, the built-in default policy (the shipped fanfilter.policy) is used.",
        valueName: "file"))
    var policy: String?

    static let builtInName = "<built-in default policy>"

    func load(ownership: OwnershipCheck = .refuse) throws(PolicyError) -> Policy {
        guard let policy else { return try Policy.parse(PackageResources.fanfilter_policy, file: Self.builtInName) }
        return try Policy.load(path: policy, ownership: ownership)
    }

    /// The text of one line of a policy file, for caret lines (nil when unreadable).
    func line(_ location: SourceLocation) -> [UInt8]? {
        if location.file == Self.builtInName {
            let lines = PackageResources.fanfilter_policy.split(separator: 10, omittingEmptySubsequences: false)
            guard location.line >= 1, location.line <= lines.count else { return nil }
            return Array(lines[location.line - 1])
        }
        return Policy.sourceLine(location)
    }
}

/// Writes `text` and a newline to standard error.
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
