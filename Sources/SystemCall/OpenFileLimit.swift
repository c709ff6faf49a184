import Glibc

/// RLIMIT_NOFILE: how many descriptors the process may hold open, its soft
/// limit (in force) and its hard limit (how far an unprivileged process may
/// raise the soft one; CAP_SYS_RESOURCE raises both).
public enum OpenFileLimit {
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

    /// The limits now (nil where getrlimit fails, which it does not for this resource).
    public static var current: (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard (try? systemCall("getrlimit RLIMIT_NOFILE") { getrlimit(resource, &limit) }) != nil else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Sets both limits.
    public static func set(soft: UInt64, hard: UInt64) throws(SystemCallError) {
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        _ = try systemCall("setrlimit RLIMIT_NOFILE \(soft):\(hard)") { setrlimit(resource, &limit) }
    }
}
