import CVerity

/// A file's fs-verity digest: the kernel's own measure of its contents,
/// which it enforces on every read, so a file that has one cannot change
/// under it and is never read to be checked.
public enum Verity {
    /// The SHA-256 fs-verity digest of the open file, or nil when it has none
    /// (no fs-verity, another hash algorithm, or a filesystem without it).
    public static func digest(of fd: Int32) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 64)
        var algorithm: UInt16 = 0
        let n = bytes.withUnsafeMutableBufferPointer { cverity_measure(fd, $0.baseAddress, $0.count, &algorithm) }
        guard n == 32, algorithm == 1 else { return nil }
        return Array(bytes.prefix(32))
    }

    /// Whether the file at `path` has fs-verity (from statx: nothing is opened).
    public static func isEnabled(_ path: [UInt8]) -> Bool {
        (path + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { cverity_enabled($0.baseAddress!) } } == 1
    }
}
