import AgentService
import ArgumentParser
import Policy

/// The `--policy` option: a file, or the default built into the binary.
struct PolicySource: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The policy file. Without it, the built-in default policy (the shipped fanfilter.policy) is used.",
        valueName: "file"))
    var policy: String?

    static let builtInName = PolicyOrigin.builtInName

    var origin: PolicyOrigin { PolicyOrigin(path: policy) }

    func load(ownership: OwnershipCheck = .refuse) throws(PolicyError) -> Policy {
        try origin.load(ownership: ownership)
    }

    /// The text of one line of a policy file, for caret lines (nil when unreadable).
    func line(_ location: SourceLocation) -> [UInt8]? { origin.line(location) }
}
