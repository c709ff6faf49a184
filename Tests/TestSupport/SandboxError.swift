/// A sandbox that could not be made: which step failed, and what it printed.
public struct SandboxError: Error, CustomStringConvertible {
    public let what: String
    public var description: String { what }
}
