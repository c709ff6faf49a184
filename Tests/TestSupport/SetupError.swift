/// A test fixture (a sandbox, a daemon, a cgroup) that could not be set up: which step failed, and what it printed.
public struct SetupError: Error, CustomStringConvertible {
    public let what: String
    public var description: String { what }
}
