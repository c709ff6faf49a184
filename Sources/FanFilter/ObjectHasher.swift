import COpenSSL
import Glibc
import Synchronization

/// SHA-256 of a file's contents, read through its event fd (never by path),
/// cached by device, inode, size, mtime and ctime so an unchanged file is
/// hashed once. Files larger than the policy's `hash_max_size` are not hashed.
final class ObjectHasher: Sendable {
    private struct Key: Hashable {
        var device: UInt64, inode: UInt64, size: Int64
        var mtime: Int64, mtimeNanos: Int, ctime: Int64, ctimeNanos: Int
    }

    private let cache = Mutex<[Key: [UInt8]]>([:])
    let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// Lowercase hex SHA-256, or nil (unreadable, or larger than `maxSize`).
    func sha256(of eventFD: Int32, maxSize: UInt64) -> [UInt8]? {
        var st = stat()
        guard fstat(eventFD, &st) == 0, st.st_size >= 0, UInt64(st.st_size) <= maxSize else { return nil }
        let key = Key(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                      mtime: Int64(st.st_mtim.tv_sec), mtimeNanos: st.st_mtim.tv_nsec,
                      ctime: Int64(st.st_ctim.tv_sec), ctimeNanos: st.st_ctim.tv_nsec)
        if let hit = cache.withLock({ $0[key] }) { return hit }
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { return nil }
        var offset: off_t = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(eventFD, $0.baseAddress, $0.count, offset) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            guard buffer.withUnsafeBytes({ EVP_DigestUpdate(context, $0.baseAddress, n) }) == 1 else { return nil }
            offset += off_t(n)
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == 32 else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        let hex = digest.prefix(32).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }
        cache.withLock { c in
            if c.count >= capacity { c.removeAll(keepingCapacity: true) }
            c[key] = hex
        }
        return hex
    }
}
