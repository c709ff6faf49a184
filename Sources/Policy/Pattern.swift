/// One value a test compares with.
public enum Pattern: Sendable, Equatable, Hashable {
    case number(UInt64)
    case bytes([UInt8])
    /// A directory prefix, ending in "/".
    case prefix([UInt8])
    case glob(Glob)
}
