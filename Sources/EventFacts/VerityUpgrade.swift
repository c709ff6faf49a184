import Glibc
import SystemCall
import TrustStore

/// At `fanfilter trust update`: an entry whose file has fs-verity keeps the
/// kernel's digest instead of the source's, once the file's contents are
/// found to match the source's digest (read this once); from then on a trust
/// check measures the file (one ioctl) and never reads it. A file whose
/// contents do not match keeps the source's digest, and fails its checks.
public enum VerityUpgrade {
    /// The entries, with the fs-verity digest where it can stand; and how many changed.
    public static func apply(_ entries: [TrustEntry]) -> (entries: [TrustEntry], upgraded: Int) {
        var out = entries
        var upgraded = 0
        let hasher = ObjectHasher(capacity: 1)
        for i in out.indices {
            guard let algorithm = out[i].digest.algorithm, let recorded = out[i].digest.hexBytes, Verity.isEnabled(out[i].path) else { continue }
            guard let file = try? OpenedFile(path: out[i].path) else { continue }
            defer { file.close() }
            let fd = file.fd
            guard let now = hasher.digest(of: fd, algorithm, maxSize: .max), now == recorded,
                  let verity = Verity.digest(of: fd) else { continue }
            out[i].digest = .fsverity(verity)
            upgraded += 1
        }
        return (out, upgraded)
    }
}
