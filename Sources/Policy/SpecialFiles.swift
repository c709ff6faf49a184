#if canImport(Glibc)
import Glibc
import SystemCall
import SystemPackage
#endif

extension Policy {
    /// Warnings for the files the rules name that fanotify cannot see: the
    /// kernel raises no permission event for an open of a FIFO, a socket or a
    /// device node, so no rule decides it. Looks at each rule's `path=` values
    /// and at the entries of its `dir=` folders (not below them, and at most
    /// `limit` entries a folder), as they are when `check` runs; one warning
    /// per rule, naming the first such file.
    public func specialFileWarnings(limit: Int = 10_000) -> [PolicyDiagnostic] {
        var warnings: [PolicyDiagnostic] = []
        for rule in rules {
            var found: [(path: [UInt8], kind: String)] = []
            for test in rule.object where test.comparison == .equal {
                for value in test.values {
                    switch (test.attribute, value) {
                    case (.path, .bytes(let path)):
                        if let kind = specialKind(path) { found.append((path, kind)) }
                    case (.dir, .prefix(let folder)):
                        found += specialEntries(of: folder, limit: limit)
                    default: break
                    }
                }
            }
            guard let first = found.first else { continue }
            let more = found.count > 1 ? " (and \(found.count - 1) more)" : ""
            warnings.append(PolicyDiagnostic(
                location: rule.location, severity: .warning,
                message: "\(printable(first.path)) is \(first.kind)\(more): the kernel raises no permission event for FIFOs, sockets or device nodes, so no rule decides their opens"))
        }
        return warnings
    }
}

private func specialKind(_ path: [UInt8]) -> String? {
    guard let st = try? withCPath(path, { FilePath(platformString: $0) }).stat(followTargetSymlink: false).rawValue else { return nil }
    switch st.st_mode & S_IFMT {
    case S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK: return fileKind(st.st_mode)
    default: return nil
    }
}

private func specialEntries(of folder: [UInt8], limit: Int) -> [(path: [UInt8], kind: String)] {
    var found: [(path: [UInt8], kind: String)] = []
    withCPath(folder) { path in
        try? Directory.forEachEntry(in: path, limit: limit) { entry in
            let special = [DT_FIFO, DT_SOCK, DT_CHR, DT_BLK].contains { UInt8($0) == entry.type }
            if special, let kind = specialKind(folder + entry.name) { found.append((folder + entry.name, kind)) }
            return true
        }
    }
    return found
}
