import Glibc
import SystemCall
import SystemPackage

/// A package manager's path as the kernel will name the file: its folders'
/// symbolic links resolved (on a merged-/usr system a package says /bin/ls,
/// the kernel /usr/bin/ls), each folder resolved once. nil for a path that
/// is not a regular file now (a folder, a symbolic link, a missing file).
struct CanonicalPaths {
    private var folders: [[UInt8]: [UInt8]?] = [:]

    /// The canonical path and the file's size.
    mutating func regularFile(_ path: [UInt8]) -> (path: [UInt8], size: UInt64)? {
        guard path.first == UInt8(ascii: "/"), let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        guard let st = try? withCPath(path, { FilePath(platformString: $0) }).stat(followTargetSymlink: false), st.type == .regular else { return nil }
        let folder = Array(path[..<slash])
        let real: [UInt8]?
        if let known = folders[folder] { real = known } else {
            real = Self.resolve(folder.isEmpty ? [UInt8(ascii: "/")] : folder)
            folders[folder] = real
        }
        guard let real else { return nil }
        let name = path[(slash + 1)...]
        return ((real == [UInt8(ascii: "/")] ? real : real + [UInt8(ascii: "/")]) + name, UInt64(st.size))
    }

    private static func resolve(_ path: [UInt8]) -> [UInt8]? {
        guard let real = withCPath(path, { realpath($0, nil) }) else { return nil }
        defer { free(real) }
        return Array(String(cString: real).utf8)
    }
}
