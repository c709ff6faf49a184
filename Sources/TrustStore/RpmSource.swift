/// Every regular file of the installed RPM packages, as `rpm -qa` lists them
/// with `queryFormat`: path, size, mode, the package's digest algorithm and
/// the file's digest (SHA-256 or MD5; another algorithm is kept without a
/// digest, and fails a digest check). Paths are stored as the kernel names
/// them (`CanonicalPaths`); a file the package lists that is not a regular
/// file here now is skipped.
public enum RpmSource {
    /// The `rpm --queryformat` whose output `entries(fromQuery:)` reads.
    public static let queryFormat = "[%{FILENAMES}\\t%{FILESIZES}\\t%{FILEMODES}\\t%{FILEDIGESTALGO}\\t%{FILEDIGESTS}\\n]"

    public static func entries(fromQuery output: [UInt8]) -> [TrustEntry] {
        var paths = CanonicalPaths()
        var entries: [TrustEntry] = []
        for line in output.split(separator: 10) {
            let fields = line.split(separator: 9, omittingEmptySubsequences: false)
            guard fields.count == 5, let mode = UInt32(String(decoding: fields[2], as: UTF8.self)),
                  mode & 0o170000 == 0o100000, let file = paths.regularFile(Array(fields[0])) else { continue }
            let hex = String(decoding: fields[4], as: UTF8.self)
            let digest: TrustEntry.Digest
            switch (String(decoding: fields[3], as: UTF8.self), hex.utf8.count) {
            case ("8", 64), ("1", 32): digest = TrustEntry.Digest(hex: hex) ?? .none
            default: digest = .none
            }
            entries.append(TrustEntry(path: file.path, source: .rpm, size: file.size, digest: digest))
        }
        return entries
    }
}
