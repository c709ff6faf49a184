import TrustStore

extension TrustEntry.Digest {
    /// What the agent hashes a file with to compare it with this digest; nil
    /// for none (no digest check can pass) and fs-verity (measured, never read).
    package var algorithm: LibCrypto.Algorithm? {
        switch self {
        case .md5: .md5
        case .sha256: .sha256
        case .sha512: .sha512
        case .none, .fsverity: nil
        }
    }

    /// The digest's kind, as `fanfilter trust check` names it.
    var algorithmName: String {
        switch self {
        case .none: "none"
        case .md5: "md5, as dpkg records it"
        case .sha256: "sha256"
        case .sha512: "sha512"
        case .fsverity: "fs-verity, enforced by the kernel"
        }
    }
}
