import Glibc
import SystemPackage

/// A folder's entries as readdir(3) gives them: in the folder's own order,
/// "." and ".." left out. The one place the agent walks a folder.
public enum Directory {
    /// One entry: its name's bytes (no NUL) and its d_type (DT_UNKNOWN where
    /// the filesystem does not say).
    public struct Entry {
        public var name: [UInt8]
        public var type: UInt8

        public var isHidden: Bool { name.first == UInt8(ascii: ".") }
    }

    /// Calls `body` with each entry until it returns false or `limit`
    /// entries were read. Throws when the folder cannot be opened; an error
    /// midway ends the walk as the folder's end would.
    public static func forEachEntry(in path: UnsafePointer<CChar>, limit: Int = .max,
                                    _ body: (Entry) throws(SystemCallError) -> Bool) throws(SystemCallError) {
        guard let folder = opendir(path) else { throw SystemCallError("opendir \(String(cString: path))", Errno(rawValue: errno)) }
        defer { closedir(folder) }
        var seen = 0
        while seen < limit, let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name == [46] || name == [46, 46] { continue }
            seen += 1
            guard try body(Entry(name: name, type: entry.pointee.d_type)) else { return }
        }
    }

    /// Every entry's name, at most `limit` of them.
    public static func names(in path: String, limit: Int = .max) throws(SystemCallError) -> [[UInt8]] {
        var names: [[UInt8]] = []
        try forEachEntry(in: path, limit: limit) { names.append($0.name); return true }
        return names
    }
}
