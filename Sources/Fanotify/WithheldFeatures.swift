import Glibc

/// Kernel features a test build pretends the kernel lacks, so the fallbacks
/// for older kernels (Ubuntu 22.04's 5.15, RHEL 9's 5.14) run on this one:
/// FANFILTER_WITHHOLD_FEATURES, a comma-separated list of `pidfd`, `audit`,
/// `unlimited-queue`, `fd-error`, `fan-mark-ignore` (ignore marks with the
/// legacy ignored mask), `evictable-marks` (no kernel cache) and
/// `rename-watch` (no group that reports names, as before 5.9). Guarantee:
/// a release build reads no such variable and withholds nothing.
struct WithheldFeatures: Equatable {
    var names: Set<String> = []

    static let known: Set<String> = ["pidfd", "audit", "unlimited-queue", "fd-error", "fan-mark-ignore", "evictable-marks",
                                     "rename-watch"]

    /// What the environment withholds, in a debug build; nothing in a release build.
    static var fromEnvironment: WithheldFeatures {
        #if DEBUG
        guard let raw = getenv("FANFILTER_WITHHOLD_FEATURES") else { return WithheldFeatures() }
        return WithheldFeatures(list: String(cString: raw))
        #else
        return WithheldFeatures()
        #endif
    }

    /// Names it does not know are refused loudly: a test that withholds a
    /// feature by a misspelt name would pass on the kernel's own features.
    init(list: String) {
        names = Set(list.split(separator: ",").map { String($0) })
        precondition(names.isSubset(of: Self.known), "FANFILTER_WITHHOLD_FEATURES: unknown \(names.subtracting(Self.known).sorted())")
    }

    init() {}

    func withholds(_ name: String) -> Bool { names.contains(name) }
}
