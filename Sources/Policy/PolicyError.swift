/// A policy that cannot be used, with every error found in it.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var diagnostics: [PolicyDiagnostic]

    public init(_ diagnostics: [PolicyDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
