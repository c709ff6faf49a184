/// One problem found in a policy file.
public struct PolicyDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var location: SourceLocation
    public var severity: Severity
    public var message: String

    /// `FILE:LINE:COL: error: message`, the form compilers and editors read.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}
