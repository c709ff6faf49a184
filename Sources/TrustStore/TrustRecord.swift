/// How an entry is stored: the key is the path (a path longer than LMDB's
/// 511-byte keys is keyed by its first 480 bytes, a NUL and a 64-bit hash of
/// the whole, and the whole path is kept in the value and compared on
/// lookup); the value is a version byte, the source, the digest kind, a
/// flag byte, the size (little-endian), the digest, and the long path.
enum TrustRecord {
    static let version: UInt8 = 1
    static let longKeyPrefix = 480
    /// The digest's length for each kind: none, MD5, SHA-256, fs-verity, SHA-512.
    static let digestLengths = [0, 16, 32, 32, 64]

    static func key(_ path: [UInt8]) -> [UInt8] {
        guard path.count > longKeyPrefix else { return path }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in path { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Array(path.prefix(longKeyPrefix)) + [0] + (0..<8).map { UInt8(truncatingIfNeeded: hash >> (8 * $0)) }
    }

    static func value(_ e: TrustEntry) -> [UInt8] {
        var out: [UInt8] = [version, e.source.rawValue]
        let digest: [UInt8]
        switch e.digest {
        case .none: out.append(0); digest = []
        case .md5(let d): out.append(1); digest = d
        case .sha256(let d): out.append(2); digest = d
        case .fsverity(let d): out.append(3); digest = d
        case .sha512(let d): out.append(4); digest = d
        }
        out.append(e.size == nil ? 0 : 1)
        let size = e.size ?? 0
        out += (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
        out += digest
        if e.path.count > longKeyPrefix { out += e.path }
        return out
    }

    /// The entry for `path` from a stored value; nil when the value is not
    /// one this version writes, or is another path's (a long-key collision).
    static func entry(_ path: [UInt8], _ v: UnsafeRawBufferPointer) -> TrustEntry? {
        guard v.count >= 12, v[0] == version, let source = TrustSource(rawValue: v[1]) else { return nil }
        var size: UInt64 = 0
        for i in 0..<8 { size |= UInt64(v[4 + i]) << (8 * UInt64(i)) }
        guard v[2] < digestLengths.count else { return nil }
        let digestLength = digestLengths[Int(v[2])]
        guard v.count >= 12 + digestLength else { return nil }
        let bytes = Array(v[12..<(12 + digestLength)])
        if path.count > longKeyPrefix, !v[(12 + digestLength)...].elementsEqual(path) { return nil }
        let digest: TrustEntry.Digest = switch v[2] {
        case 1: .md5(bytes)
        case 2: .sha256(bytes)
        case 3: .fsverity(bytes)
        case 4: .sha512(bytes)
        default: .none
        }
        return TrustEntry(path: path, source: source, size: v[3] == 1 ? size : nil, digest: digest)
    }
}
