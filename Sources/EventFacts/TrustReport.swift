import Glibc
import Policy
import SystemCall
import TrustStore

/// What `fanfilter trust check` says of one file: whether the agent would
/// find it trusted under an `integrity` setting, and why, read as the agent
/// reads it (the digest through the open file, the entry from the database).
public struct TrustReport: Sendable {
    public let trusted: Bool
    /// One line a fact: listed or not, the source, the size, the digest.
    public let lines: [String]

    public init(path: String, database: TrustDatabase?, integrity: Integrity) {
        var lines: [String] = []
        let file: OpenedFile
        do { file = try OpenedFile(path: path) } catch {
            self.init(trusted: false, lines: ["cannot read it: \(String(cString: strerror(error.errno.rawValue)))"])
            return
        }
        defer { file.close() }
        let (fd, st) = (file.fd, file.status)
        let named = ProcFacts.path(of: fd, stat: st) ?? Array(path.utf8)
        let shown = String(decoding: named, as: UTF8.self)
        guard let database else {
            self.init(trusted: false, lines: ["no trust database: build it with fanfilter trust update"])
            return
        }
        guard let entry = database.lookUp(named) else {
            self.init(trusted: false, lines: ["\(shown): not listed in \(database.path)"])
            return
        }
        lines.append("\(shown): listed (source \(entry.source))")
        lines.append("size: recorded \(entry.size.map(String.init) ?? "none"), now \(st.st_size)")
        if let hex = entry.digest.hex { lines.append("digest: recorded \(hex) (\(entry.digest.algorithmName))") }
        let hasher = ObjectHasher(capacity: 4)
        let checker = TrustChecker(database: database, integrity: integrity)
        let outcome = checker.check(path: named, stat: st, verity: {
            let measured = Verity.digest(of: fd)
            lines.append("fs-verity: now \(measured.map { TrustEntry.Digest.fsverity($0).hex ?? "" } ?? "none")")
            return measured
        }) { algorithm in
            let digest = hasher.digest(of: fd, algorithm, maxSize: .max)
            lines.append("digest: now \(digest.map { String(decoding: $0, as: UTF8.self) } ?? "unreadable")")
            return .digest(digest)
        }
        let trusted = outcome == .trusted(true)
        lines.append("integrity = \(integrity.rawValue): \(trusted ? "trusted" : "NOT trusted")")
        self.init(trusted: trusted, lines: lines)
    }

    init(trusted: Bool, lines: [String]) {
        self.trusted = trusted
        self.lines = lines
    }
}
