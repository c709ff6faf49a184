import Glibc
import SystemCall
import SystemPackage

/// A trust file in fapolicyd's format: one `PATH SIZE SHA256` a line (the
/// path may hold spaces: the size and digest are the last two words), `#`
/// comments and blank lines ignored. A bad line is reported with its file
/// and line and skipped, never guessed at.
public struct TrustFile {
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let file: String
        public let line: Int
        public let message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public var entries: [TrustEntry] = []
    public var problems: [Problem] = []

    /// The default trust file and folder.
    public static let defaultFile = "/etc/fanfilter/trust"
    public static let defaultFolder = "/etc/fanfilter/trust.d"
    /// The largest trust file (or dpkg record) read; a larger one is skipped.
    static let maximumSize = 256 << 20

    public init(text: [UInt8], file: String) {
        var number = 0
        for raw in text.split(separator: 10, omittingEmptySubsequences: false) {
            number += 1
            var line = raw[...]
            while let last = line.last, last == 13 || last == 32 || last == 9 { line.removeLast() }
            line = line.drop { $0 == 32 || $0 == 9 }
            guard !line.isEmpty, line.first != UInt8(ascii: "#") else { continue }
            let words = line.split(whereSeparator: { $0 == 32 || $0 == 9 })
            func problem(_ m: String) { problems.append(Problem(file: file, line: number, message: m)) }
            guard words.count >= 3 else { problem("expected PATH SIZE SHA256"); continue }
            let hashWord = words[words.count - 1], sizeWord = words[words.count - 2]
            let path = Array(line[..<sizeWord.startIndex]).reversed().drop { $0 == 32 || $0 == 9 }.reversed()
            guard path.first == UInt8(ascii: "/"), path.count < 4096 else { problem("the path must be absolute and shorter than 4096 bytes"); continue }
            guard let size = UInt64(String(decoding: sizeWord, as: UTF8.self)) else {
                problem("'\(String(decoding: sizeWord, as: UTF8.self))' is not a size in bytes"); continue
            }
            guard hashWord.count == 64, let digest = TrustEntry.Digest(hex: String(decoding: hashWord, as: UTF8.self)) else {
                problem("the SHA-256 must be 64 hex digits"); continue
            }
            entries.append(TrustEntry(path: Array(path), source: .file, size: size, digest: digest))
        }
    }

    /// The trust file and every regular file of the folder, in name order; a
    /// missing file or folder holds nothing.
    public static func readAll(file: String = defaultFile, folder: String = defaultFolder) -> TrustFile {
        var all = TrustFile(text: [], file: file)
        var names = [file]
        let found = (try? Directory.names(in: folder)) ?? []
        names += found.filter { $0.first != UInt8(ascii: ".") }.map { folder + "/" + String(decoding: $0, as: UTF8.self) }.sorted()
        for name in names {
            guard let bytes = WholeFile.read(name, limit: maximumSize, regularOnly: true) else { continue }
            let one = TrustFile(text: bytes, file: name)
            all.entries += one.entries
            all.problems += one.problems
        }
        return all
    }

    /// The line a trust file gives an entry.
    public static func line(path: [UInt8], size: UInt64, sha256Hex: String) -> String {
        String(decoding: path, as: UTF8.self) + " \(size) \(sha256Hex)"
    }
}
