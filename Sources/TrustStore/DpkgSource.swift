import Glibc
import SystemCall

/// Every regular file the Debian package manager installed, from dpkg's own
/// records: the `*.list` file of each package names its files, the
/// `*.md5sums` file their MD5 as shipped. Each path is stored as the kernel
/// will name it: with its folders' symbolic links resolved (on a merged-/usr
/// system dpkg says /bin/ls, the kernel /usr/bin/ls); a listed symbolic link,
/// folder or missing file is skipped. The size is the file's size now; the
/// digest is the package's.
public enum DpkgSource {
    public static let defaultInfoFolder = "/var/lib/dpkg/info"

    public static func entries(infoFolder: String = defaultInfoFolder) -> [TrustEntry] {
        guard let names = try? Directory.names(in: infoFolder) else { return [] }
        let lists = names.map { String(decoding: $0, as: UTF8.self) }.filter { $0.hasSuffix(".list") }.map { String($0.dropLast(5)) }
        var entries: [TrustEntry] = []
        var paths = CanonicalPaths()
        for package in lists.sorted() {
            let digests = md5sums(WholeFile.read("\(infoFolder)/\(package).md5sums", limit: TrustFile.maximumSize, regularOnly: true) ?? [])
            for line in (WholeFile.read("\(infoFolder)/\(package).list", limit: TrustFile.maximumSize, regularOnly: true) ?? []).split(separator: 10) {
                let path = Array(line)
                guard let file = paths.regularFile(path) else { continue }
                let digest = digests[Array(path.dropFirst())].flatMap { TrustEntry.Digest(hex: String(decoding: $0, as: UTF8.self)) } ?? .none
                entries.append(TrustEntry(path: file.path, source: .dpkg, size: file.size, digest: digest))
            }
        }
        return entries
    }

    /// `MD5  relative/path` lines, by path (without its leading /).
    static func md5sums(_ text: [UInt8]) -> [[UInt8]: [UInt8]] {
        var out: [[UInt8]: [UInt8]] = [:]
        for line in text.split(separator: 10) where line.count > 34 {
            let hash = line.prefix(32)
            let path = line.dropFirst(32).drop { $0 == 32 }
            out[Array(path)] = Array(hash)
        }
        return out
    }

}
