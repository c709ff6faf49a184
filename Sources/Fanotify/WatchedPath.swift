import Dispatch
import FilterPort
import Glibc
import Logging
import Policy
import Synchronization
import SystemCall
import SystemPackage

/// A watched path and how it was marked.
public struct WatchedPath: Sendable, Equatable {
    public var path: [UInt8]
    /// "filesystem" or "mount".
    public var scope: String
    /// The device of the filesystem marked for it; nil while nothing is
    /// mounted where a filesystem of its own was (it is marked again when one is).
    public var device: UInt64?
    /// Whether the path was the root of a mount of its own when it was marked.
    package var mountPoint: Bool
    /// Watched for its filesystem's type (`watch_fs`): it leaves the list when unmounted.
    public var byType = false

    package init(path: [UInt8], scope: String, byType: Bool = false) {
        self.path = path
        self.scope = scope
        self.byType = byType
        device = deviceNumber(of: path)
        mountPoint = isMountPoint(path)
    }

    /// The same watch setting (whatever is mounted there now).
    package func isSetting(_ other: WatchedPath) -> Bool { path == other.path && scope == other.scope }
}

/// Whether `path` is the root of a mount of its own: its device differs from its parent folder's.
package func isMountPoint(_ path: [UInt8]) -> Bool {
    guard path != [UInt8(ascii: "/")], let own = deviceNumber(of: path),
          let slash = path.dropLast().lastIndex(of: UInt8(ascii: "/")) else { return false }
    return deviceNumber(of: slash == 0 ? [UInt8(ascii: "/")] : Array(path[..<slash])) != own
}

/// The device of the filesystem `path` lies on; nil when it cannot be reached.
package func deviceNumber(of path: [UInt8]) -> UInt64? {
    (try? withCPath(path, { FilePath(platformString: $0) }).stat()).map { UInt64($0.deviceID.rawValue) }
}
