import AgentCounts
import Glibc
import Synchronization
import SystemPackage

/// SHA-256 (or MD5, for dpkg's records) of a file's contents, read through
/// its event fd (never by path), cached by device, inode, size, mtime and
/// ctime so an unchanged file is hashed once. A digest is kept only when the
/// file's identity is the same after the read as before it and the file
/// `isSettled`; the worker holds a `ContentLease` on the event fd, so no
/// one writes the file while it is read. Files larger than the policy's `hash_max_size` are not hashed.
/// The digest comes from OpenSSL's libcrypto, loaded at the first hash, so an
/// agent whose policy never tests `sha256hash` does not map it.
package final class ObjectHasher: Sendable {
    package struct Key: Hashable, Sendable {
        var file: FileIdentity
        var algorithm: LibCrypto.Algorithm
    }

    private let cache = Mutex<[Key: [UInt8]]>([:])
    let capacity: Int
    /// Counts each file read for a digest (`filesHashed`).
    let counters: Counters?

    package init(capacity: Int = 4096, counters: Counters? = nil) {
        self.capacity = capacity
        self.counters = counters
    }

    /// Lowercase hex SHA-256, or nil (unreadable, larger than `maxSize`, or no libcrypto).
    func sha256(of eventFD: Int32, maxSize: UInt64) -> [UInt8]? {
        digest(of: eventFD, .sha256, maxSize: maxSize)
    }

    /// Lowercase hex digest, or nil, as `sha256(of:maxSize:)`.
    package func digest(of eventFD: Int32, _ algorithm: LibCrypto.Algorithm, maxSize: UInt64) -> [UInt8]? {
        guard let file = key(of: eventFD, maxSize: maxSize) else { return nil }
        let key = Key(file: file, algorithm: algorithm)
        return cached(key) ?? hash(eventFD, key, maxSize: maxSize)
    }

    /// The identity of a regular file no larger than `maxSize`; nil for any
    /// other (only a regular file has contents to hash: a device or FIFO
    /// could be read forever).
    func key(of eventFD: Int32, maxSize: UInt64) -> FileIdentity? {
        guard let st = try? FileDescriptor(rawValue: eventFD).stat().rawValue,
              (st.st_mode & S_IFMT) == S_IFREG, st.st_size >= 0, UInt64(st.st_size) <= maxSize
        else { return nil }
        return FileIdentity(st)
    }

    func cached(_ key: Key) -> [UInt8]? { cache.withLock { $0[key] } }

    /// The digest kept for the file `st` describes, when it was hashed before.
    func cached(_ st: stat, _ algorithm: LibCrypto.Algorithm, maxSize: UInt64) -> [UInt8]? {
        guard st.st_mode & S_IFMT == S_IFREG, st.st_size >= 0, UInt64(st.st_size) <= maxSize else { return nil }
        return cached(Key(file: FileIdentity(st), algorithm: algorithm))
    }

    /// Reads and hashes the file, and keeps the digest under `key`.
    func hash(_ eventFD: Int32, _ key: Key, maxSize: UInt64) -> [UInt8]? {
        let hashing = Hashing(eventFD, key, maxSize: maxSize, counters: counters)
        while case .more = hashing.advance(by: .max) {}
        return finish(hashing)
    }

    /// The digest of a finished `hashing`, kept under its key when it may be:
    /// nil when the file could not be read or changed while it was.
    func finish(_ hashing: Hashing) -> [UInt8]? {
        guard case .done(let digest) = hashing.advance(by: 0), let hex = digest else { return nil }
        // Changed while it was read (a filesystem that takes no lease): the digest is of no contents it has.
        guard let after = try? FileDescriptor(rawValue: hashing.fd).stat().rawValue, FileIdentity(after) == hashing.key.file else { return nil }
        if hashing.key.file.isSettled {
            cache.withLock { c in
                if c.count >= capacity { c.removeAll(keepingCapacity: true) }
                c[hashing.key] = hex
            }
        }
        return hex
    }

    /// One file's hashing, done a slice at a time (`advance`), so that the
    /// background hasher can take turns between users' files.
    final class Hashing {
        enum Step {
            case more
            /// The digest, or nil (unreadable, grown past the bound, no libcrypto).
            case done([UInt8]?)
        }

        let fd: Int32
        let key: Key
        private let maxSize: UInt64
        private var offset: Int64 = 0
        private var digest: LibCrypto.Digest?
        private var result: Step = .more
        private static let chunk = 1 << 16

        init(_ fd: Int32, _ key: Key, maxSize: UInt64, counters: Counters?) {
            self.fd = fd
            self.key = key
            self.maxSize = maxSize
            counters?.increment(.filesHashed)
            digest = LibCrypto.shared.flatMap { LibCrypto.Digest(key.algorithm, $0) }
            if digest == nil { result = .done(nil) }
        }

        /// Reads and hashes up to `budget` more bytes (a whole chunk at least,
        /// but for 0): `.more` while the file goes on.
        func advance(by budget: Int) -> Step {
            guard case .more = result, let digest, budget > 0 else { return result }
            var buffer = [UInt8](repeating: 0, count: Self.chunk)
            var spent = 0
            let file = FileDescriptor(rawValue: fd)
            while spent < budget {
                guard let n = try? buffer.withUnsafeMutableBytes({ try file.read(fromAbsoluteOffset: offset, into: $0) }) else {
                    result = .done(nil)
                    return result
                }
                if n == 0 {
                    result = .done(digest.finish())
                    return result
                }
                // A file that grows while it is read is hashed no further than the bound.
                guard UInt64(offset) + UInt64(n) <= maxSize,
                      buffer.withUnsafeBytes({ digest.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }) else {
                    result = .done(nil)
                    return result
                }
                offset += Int64(n)
                spent += n
            }
            return .more
        }
    }
}
