/// One trusted file: its path, where it came from, and what its integrity
/// is checked against (the size and digest recorded by the package manager
/// or the trust file).
public struct TrustEntry: Sendable, Equatable {
    public enum Digest: Sendable, Equatable {
        case none
        /// dpkg's md5sums: the only digest dpkg records.
        case md5([UInt8])
        case sha256([UInt8])
        /// rpm's SHA-512 file digests, and fapolicyd 2.0 trust files' 128-digit ones.
        case sha512([UInt8])
        /// The file's fs-verity digest (SHA-256 Merkle tree), recorded when
        /// the update found the file's contents matched the source's digest:
        /// from then on the kernel enforces it, and a check reads nothing.
        case fsverity([UInt8])

        /// Lowercase hex, as the files write it.
        public var hex: String? { hexBytes.map { String(decoding: $0, as: UTF8.self) } }

        /// Lowercase hex as bytes (what the agent's hasher gives, compared on the event path).
        public var hexBytes: [UInt8]? {
            switch self {
            case .none: return nil
            case .md5(let b), .sha256(let b), .sha512(let b), .fsverity(let b):
                var out = [UInt8](repeating: 0, count: b.count * 2)
                for (i, byte) in b.enumerated() {
                    out[2 * i] = Self.digits[Int(byte >> 4)]
                    out[2 * i + 1] = Self.digits[Int(byte & 15)]
                }
                return out
            }
        }

        private static let digits = Array("0123456789abcdef".utf8)

        /// The digest from its hex form (32 digits: MD5, 64: SHA-256, 128: SHA-512).
        public init?(hex: some StringProtocol) {
            let digits = Array(hex.utf8)
            guard [32, 64, 128].contains(digits.count) else { return nil }
            var bytes: [UInt8] = []
            for i in stride(from: 0, to: digits.count, by: 2) {
                guard let high = Self.nibble(digits[i]), let low = Self.nibble(digits[i + 1]) else { return nil }
                bytes.append(high << 4 | low)
            }
            switch digits.count {
            case 32: self = .md5(bytes)
            case 64: self = .sha256(bytes)
            default: self = .sha512(bytes)
            }
        }

        private static func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
    }

    public var path: [UInt8]
    public var source: TrustSource
    /// The size in bytes when the entry was made (nil: not recorded).
    public var size: UInt64?
    public var digest: Digest

    public init(path: [UInt8], source: TrustSource, size: UInt64?, digest: Digest) {
        self.path = path
        self.source = source
        self.size = size
        self.digest = digest
    }
}
