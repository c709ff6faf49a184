import Glibc
import Synchronization

/// The six functions of OpenSSL's EVP digest API that hashing needs, from
/// libcrypto loaded with dlopen(3) the first time they are (1.1 or 3).
package struct LibCrypto: @unchecked Sendable {
    let newContext: @convention(c) () -> OpaquePointer?
    let freeContext: @convention(c) (OpaquePointer?) -> Void
    let sha256: @convention(c) () -> OpaquePointer?
    let md5: @convention(c) () -> OpaquePointer?
    let sha512: @convention(c) () -> OpaquePointer?
    let digestInit: @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    let digestUpdate: @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> Int32
    let digestFinal: @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?) -> Int32

    /// nil when no libcrypto can be loaded: then `sha256hash` matches nothing.
    package static let shared: LibCrypto? = {
        for name in ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"] {
            guard let library = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            func load<F>(_ symbol: String, as type: F.Type) -> F? {
                dlsym(library, symbol).map { unsafeBitCast($0, to: type) }
            }
            if let newContext = load("EVP_MD_CTX_new", as: (@convention(c) () -> OpaquePointer?).self),
               let freeContext = load("EVP_MD_CTX_free", as: (@convention(c) (OpaquePointer?) -> Void).self),
               let sha256 = load("EVP_sha256", as: (@convention(c) () -> OpaquePointer?).self),
               let md5 = load("EVP_md5", as: (@convention(c) () -> OpaquePointer?).self),
               let sha512 = load("EVP_sha512", as: (@convention(c) () -> OpaquePointer?).self),
               let digestInit = load("EVP_DigestInit_ex", as: (@convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32).self),
               let digestUpdate = load("EVP_DigestUpdate", as: (@convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> Int32).self),
               let digestFinal = load("EVP_DigestFinal_ex", as: (@convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?) -> Int32).self) {
                return LibCrypto(newContext: newContext, freeContext: freeContext, sha256: sha256, md5: md5, sha512: sha512,
                                 digestInit: digestInit, digestUpdate: digestUpdate, digestFinal: digestFinal)
            }
            dlclose(library)
        }
        return nil
    }()

    /// The digests the agent computes: SHA-256 (sha256hash, trust files),
    /// MD5 (what dpkg records of a package's files) and SHA-512 (fapolicyd
    /// 2.0's 128-digit filehash, rpm's SHA-512 file digests).
    package enum Algorithm: Sendable, Hashable {
        case sha256, md5, sha512
        var length: UInt32 {
            switch self {
            case .sha256: 32
            case .md5: 16
            case .sha512: 64
            }
        }
    }

    /// Lowercase hex SHA-256 of what `feed` hands its `update` (which says
    /// whether libcrypto took it); nil when `feed` or libcrypto fails.
    package func sha256Hex(_ feed: (_ update: (UnsafeRawBufferPointer) -> Bool) -> Bool) -> [UInt8]? {
        digestHex(.sha256, feed)
    }

    /// The same with either algorithm.
    func digestHex(_ algorithm: Algorithm, _ feed: (_ update: (UnsafeRawBufferPointer) -> Bool) -> Bool) -> [UInt8]? {
        guard let digest = Digest(algorithm, self), feed(digest.update) else { return nil }
        return digest.finish()
    }

    /// One digest computed piece by piece, as the pieces come (a large file
    /// is hashed a slice at a time, between other files' slices).
    final class Digest {
        private let library: LibCrypto
        private let context: OpaquePointer
        private let algorithm: Algorithm

        init?(_ algorithm: Algorithm, _ library: LibCrypto) {
            guard let context = library.newContext() else { return nil }
            let type = switch algorithm {
            case .sha256: library.sha256()
            case .md5: library.md5()
            case .sha512: library.sha512()
            }
            guard library.digestInit(context, type, nil) == 1 else {
                library.freeContext(context)
                return nil
            }
            self.library = library
            self.context = context
            self.algorithm = algorithm
        }

        deinit { library.freeContext(context) }

        /// Adds `bytes`; false when libcrypto did not take them.
        func update(_ bytes: UnsafeRawBufferPointer) -> Bool {
            library.digestUpdate(context, bytes.baseAddress, bytes.count) == 1
        }

        /// The lowercase hex digest of everything added; nil when libcrypto fails.
        func finish() -> [UInt8]? {
            var digest = [UInt8](repeating: 0, count: 64)  // EVP_MAX_MD_SIZE
            var length: UInt32 = 0
            guard library.digestFinal(context, &digest, &length) == 1, length == algorithm.length else { return nil }
            let digits = Array("0123456789abcdef".utf8)
            return digest.prefix(Int(length)).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }
        }
    }
}
