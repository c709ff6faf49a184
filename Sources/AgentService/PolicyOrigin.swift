import Policy

/// Where the agent's policy comes from: a file, or the default built into the
/// binary (the shipped fanfilter.policy). Guarantee: a file is loaded only
/// when its ownership passes the check asked for; the built-in one always parses.
public struct PolicyOrigin: Sendable {
    /// The policy file; nil for the built-in default.
    public let path: String?

    public static let builtInName = "<built-in default policy>"

    public init(path: String?) { self.path = path }

    /// The file's name as logs and `status` show it.
    public var name: String { path ?? Self.builtInName }

    public func load(ownership: OwnershipCheck = .refuse) throws(PolicyError) -> Policy {
        guard let path else { return try Policy.parse(PackageResources.fanfilter_policy, file: Self.builtInName) }
        return try Policy.load(path: path, ownership: ownership)
    }

    /// The text of one line of a policy file, for caret lines (nil when unreadable).
    public func line(_ location: SourceLocation) -> [UInt8]? {
        if location.file == Self.builtInName {
            let lines = PackageResources.fanfilter_policy.split(separator: 10, omittingEmptySubsequences: false)
            guard location.line >= 1, location.line <= lines.count else { return nil }
            return Array(lines[location.line - 1])
        }
        return Policy.sourceLine(location)
    }
}
