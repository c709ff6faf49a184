import Fanotify
import Glibc
import Policy
import SystemCall
import TrustStore

/// The facts of a file named by path, as the agent would see them through an
/// event fd (for `fanfilter explain`; the agent itself never opens by path).
/// A file that cannot be opened has its path alone.
extension ObjectFacts {
    public init(reading path: [UInt8], hashMaxSize: UInt64) {
        self = objectFacts(path: path, hashMaxSize: hashMaxSize)
    }
}

private func objectFacts(path: [UInt8], hashMaxSize: UInt64) -> ObjectFacts {
    guard let file = try? OpenedFile(path: path) else { return ObjectFacts(path: path) }
    defer { file.close() }
    let fd = file.fd
    // Only a regular file's facts are read: a device or FIFO has no size or contents to speak of.
    guard file.isRegular else { return ObjectFacts(path: ProcFacts.path(of: fd) ?? path) }
    var facts = ProcFacts.object(path: ProcFacts.path(of: fd) ?? path, stat: file.status,
                                 needs: [.size, .device, .fstype], mounts: MountTable())
    let hasher = ObjectHasher(capacity: 2)
    facts.sha256 = hasher.sha256(of: fd, maxSize: hashMaxSize)
    facts.sha512 = hasher.digest(of: fd, .sha512, maxSize: hashMaxSize)
    return facts
}

/// The type and trust of a file named by path, as the agent would find them
/// under `settings` (for `fanfilter explain`): nil facts when it cannot be
/// opened, or no trust database can be.
public struct FileTypeAndTrust: Sendable {
    public let ftype: [UInt8]?
    public let trusted: Bool?

    public init(path: [UInt8], settings: Settings) {
        guard let file = try? OpenedFile(path: path) else { ftype = nil; trusted = nil; return }
        defer { file.close() }
        let (fd, st) = (file.fd, file.status)
        let named = ProcFacts.path(of: fd, stat: st) ?? path
        let database = try? TrustDatabase(path: String(decoding: settings.trustDatabase, as: UTF8.self))
        let trust = TrustChecker(database: database, integrity: settings.integrity)
        ftype = FileTypes(capacity: 1).mimeType(of: fd, stat: st) { trust.lists($0) }
        guard database != nil else { trusted = nil; return }
        let hasher = ObjectHasher(capacity: 1)
        let outcome = trust.check(path: named, stat: st, verity: { Verity.digest(of: fd) }) {
            .digest(hasher.digest(of: fd, $0, maxSize: settings.hashMaxSize))
        }
        trusted = outcome == .trusted(true)
    }
}
