/// One value a test compares with.
public enum Pattern: Sendable, Equatable, Hashable {
    case number(UInt64)
    case bytes([UInt8])
    /// A directory prefix, ending in "/".
    case prefix([UInt8])
    case glob(Glob)
    /// fapolicyd's `untrusted` (`exe=untrusted`, `path=untrusted`, `dir=untrusted`):
    /// the file the test names is not in the trust database.
    case untrusted
    /// A value that names nothing on this machine (a user or group that does
    /// not exist, an empty path): it matches no fact. Kept as written.
    case nothing([UInt8])
}
