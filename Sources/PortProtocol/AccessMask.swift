/// Which accesses a decider serves: opens, executions or both.
public struct AccessMask: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let open = AccessMask(rawValue: 1)
    public static let execute = AccessMask(rawValue: 2)
    public static let all: AccessMask = [.open, .execute]
}
