/// What `trust=1` checks besides the trust database listing the file's path
/// (fapolicyd's `integrity` setting).
public enum Integrity: String, Sendable, Equatable, CaseIterable {
    /// The path alone.
    case none
    /// The path, and the size recorded when the database was built.
    case size
    /// The path, the size and the contents' digest (SHA-256; dpkg's own MD5
    /// for a file of a Debian package, which is what dpkg records), cached by
    /// the file's identity so an unchanged file is hashed once.
    case sha256
}
