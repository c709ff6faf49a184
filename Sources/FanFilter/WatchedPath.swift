import Dispatch
import FilterPort
import Glibc
import Logging
import Policy
import Synchronization

/// A watched path and how it was marked.
public struct WatchedPath: Sendable, Equatable {
    public var path: [UInt8]
    /// "filesystem" or "mount".
    public var scope: String
    /// The device of the filesystem marked for it; nil while nothing is
    /// mounted where a filesystem of its own was (it is marked again when one is).
    public var device: UInt64?
    /// Whether the path was the root of a mount of its own when it was marked.
    var mountPoint: Bool
    /// Watched for its filesystem's type (`watch_fs`): it leaves the list when unmounted.
    public var byType = false

    init(path: [UInt8], scope: String, byType: Bool = false) {
        self.path = path
        self.scope = scope
        self.byType = byType
        device = deviceNumber(of: path)
        mountPoint = isMountPoint(path)
    }

    /// The same watch setting (whatever is mounted there now).
    func isSetting(_ other: WatchedPath) -> Bool { path == other.path && scope == other.scope }
}
