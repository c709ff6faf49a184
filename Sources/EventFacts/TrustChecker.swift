import Glibc
import Policy
import TrustStore

/// `trust=1`: the file's path is in the trust database and the file passes
/// the `integrity` check (none: the path alone; size: the size recorded;
/// sha256: also the digest recorded, SHA-256 for trust-file entries, MD5 for
/// dpkg's, SHA-256 or SHA-512 for rpm's). A digest comes from `digest`, which the worker backs with the
/// background hasher and its deadline, so a large file never holds a worker.
package struct TrustChecker: Sendable {
    package let database: TrustDatabase?
    let integrity: Integrity

    package init(database: TrustDatabase?, integrity: Integrity) {
        self.database = database
        self.integrity = integrity
    }

    package enum TrustAnswer: Equatable {
        case trusted(Bool)
        /// The digest was not ready by the event's deadline, or the hasher is full.
        case late, busy
    }

    /// Whether the database lists `path` (the path alone: an ELF interpreter's check).
    package func lists(_ path: [UInt8]) -> Bool { database?.lookUp(path) != nil }

    /// The trust of the file open with stat `st` at `path`. `verity` measures
    /// the file's fs-verity digest (nil: it has none), asked only for an entry
    /// that recorded one: then the contents are never read.
    package func check(path: [UInt8]?, stat st: stat, verity: () -> [UInt8]? = { nil },
               digest: (LibCrypto.Algorithm) -> BackgroundHasher.HashAnswer) -> TrustAnswer {
        guard let path, let entry = database?.lookUp(path) else { return .trusted(false) }
        if integrity == .none { return .trusted(true) }
        guard st.st_mode & S_IFMT == S_IFREG, entry.size.map({ $0 == UInt64(st.st_size) }) ?? false else { return .trusted(false) }
        if integrity == .size { return .trusted(true) }
        if case .fsverity(let recorded) = entry.digest { return .trusted(verity() == recorded) }
        // An entry with no digest cannot pass a digest check.
        guard let algorithm = entry.digest.algorithm, let recorded = entry.digest.hexBytes else { return .trusted(false) }
        switch digest(algorithm) {
        case .digest(let hex): return .trusted(hex == recorded)
        case .late: return .late
        case .busy: return .busy
        }
    }
}
