/// One problem found in a policy file.
public struct PolicyDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var location: SourceLocation
    public var severity: Severity
    public var message: String

    public init(location: SourceLocation, severity: Severity, message: String) {
        self.location = location
        self.severity = severity
        self.message = message
    }

    /// `FILE:LINE:COL: error: message`, the form compilers and editors read.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}
