/// How a process was started, as fapolicyd's `pattern=` tests it. A process
/// can show more than one: a program started normally with LD_PRELOAD set is
/// both `normal` and `ld_preload`. Empty: none of them (a script, or a
/// program whose start the agent did not see).
public struct StartPattern: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A dynamically linked program the kernel started with its own interpreter.
    public static let normal = StartPattern(rawValue: 1 << 0)
    /// A program run by the runtime linker named as the command (`ld.so /path/prog`).
    public static let ldSo = StartPattern(rawValue: 1 << 1)
    /// A statically linked program (no interpreter, no dynamic section).
    public static let `static` = StartPattern(rawValue: 1 << 2)
    /// Started with LD_PRELOAD or LD_AUDIT in its environment.
    public static let ldPreload = StartPattern(rawValue: 1 << 3)

    /// The names a rule uses, in fapolicyd's spelling.
    public static let names: [(String, StartPattern)] = [("normal", .normal), ("ld_so", .ldSo), ("static", .static),
                                                        ("ld_preload", .ldPreload)]

    public var description: String {
        let parts = Self.names.filter { contains($0.1) }.map(\.0)
        return parts.isEmpty ? "none" : parts.joined(separator: "+")
    }
}
