import ArgumentParser
import Glibc
import Policy

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
