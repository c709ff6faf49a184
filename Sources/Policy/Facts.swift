/// The facts a rule tests, which the agent gathers only when a rule that could
/// match the file tests them (the path is always known).
public struct Facts: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let pid = Facts(rawValue: 1 << 0)
    public static let ppid = Facts(rawValue: 1 << 1)
    public static let uid = Facts(rawValue: 1 << 2)
    public static let gid = Facts(rawValue: 1 << 3)
    public static let auid = Facts(rawValue: 1 << 4)
    public static let sessionid = Facts(rawValue: 1 << 5)
    public static let comm = Facts(rawValue: 1 << 6)
    public static let exe = Facts(rawValue: 1 << 7)
    public static let device = Facts(rawValue: 1 << 8)
    public static let fstype = Facts(rawValue: 1 << 9)
    public static let size = Facts(rawValue: 1 << 10)
    public static let sha256 = Facts(rawValue: 1 << 11)
    /// The file's SHA-512 (a 128-digit filehash).
    public static let sha512 = Facts(rawValue: 1 << 18)
    /// The file's MIME type.
    public static let ftype = Facts(rawValue: 1 << 12)
    /// Whether the file is trusted.
    public static let trust = Facts(rawValue: 1 << 13)
    /// The executable's MIME type, device and trust.
    public static let exeType = Facts(rawValue: 1 << 14)
    public static let exeDevice = Facts(rawValue: 1 << 15)
    public static let exeTrust = Facts(rawValue: 1 << 16)
    /// How the process was started (normal, ld_so, static, ld_preload).
    public static let pattern = Facts(rawValue: 1 << 17)

    /// What a decision log entry shows of the subject.
    public static let logged: Facts = [.uid, .gid, .comm, .exe]
}
