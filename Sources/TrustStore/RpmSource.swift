import Glibc
import SystemCall
import SystemPackage

/// Every regular file of the installed RPM packages, as `rpm -qa` lists them
/// with `queryFormat`: path, size, mode, the package's digest algorithm and
/// the file's digest (SHA-256, SHA-512 or MD5; another algorithm is kept without a
/// digest, and fails a digest check). Paths are stored as the kernel names
/// them (`CanonicalPaths`); a file the package lists that is not a regular
/// file here now is skipped.
public enum RpmSource {
    /// The `rpm --queryformat` whose output `entries(fromQuery:)` reads.
    public static let queryFormat = "[%{FILENAMES}\\t%{FILESIZES}\\t%{FILEMODES}\\t%{FILEDIGESTALGO}\\t%{FILEDIGESTS}\\n]"

    public static func entries(fromQuery output: [UInt8]) -> [TrustEntry] {
        var paths = CanonicalPaths()
        var entries: [TrustEntry] = []
        for line in output.split(separator: 10) {
            let fields = line.split(separator: 9, omittingEmptySubsequences: false)
            guard fields.count == 5, let mode = UInt32(String(decoding: fields[2], as: UTF8.self)),
                  mode & 0o170000 == 0o100000, let file = paths.regularFile(Array(fields[0])) else { continue }
            let hex = String(decoding: fields[4], as: UTF8.self)
            let digest: TrustEntry.Digest
            switch (String(decoding: fields[3], as: UTF8.self), hex.utf8.count) {
            case ("8", 64), ("1", 32), ("10", 128): digest = TrustEntry.Digest(hex: hex) ?? .none
            default: digest = .none
            }
            entries.append(TrustEntry(path: file.path, source: .rpm, size: file.size, digest: digest))
        }
        return entries
    }

    /// What `rpm -qa --queryformat queryFormat` prints, run as `rpm` (a path);
    /// an error says what failed when it cannot run or does not exit 0.
    public static func query(rpm: String) throws(TrustDatabaseError) -> [UInt8] {
        let output: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        do { output = try FileDescriptor.pipe(options: .closeOnExec) } catch {
            throw TrustDatabaseError(path: rpm, what: "cannot make a pipe", errno: error)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, output.writeEnd.rawValue, 1)
        let words: [String] = [rpm, "-qa", "--queryformat", queryFormat]
        var argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
        argv.append(nil)
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, rpm, &actions, nil, argv, environ)
        try? output.writeEnd.close()
        guard rc == 0 else {
            try? output.readEnd.close()
            throw TrustDatabaseError(path: rpm, what: "cannot run it", errno: Errno(rawValue: rc))
        }
        // Read to its end (or the read's error, or past the limit); the read end is closed before
        // the wait, so a child with more to write gets EPIPE and ends instead of blocking on a full pipe.
        let read = Result { () throws(Errno) in try output.readEnd.readToEnd(limit: 1 << 30) }
        try? output.readEnd.close()
        var status: Int32 = 0
        _ = try? systemCall("waitpid") { waitpid(pid, &status, 0) }
        let bytes: [UInt8]
        switch read {
        case .success(let read): bytes = read
        case .failure(let error): throw TrustDatabaseError(path: rpm, what: "cannot read its output", errno: error)
        }
        let exited = status & 0x7f == 0
        guard exited, (status >> 8) & 0xff == 0 else {
            throw TrustDatabaseError(path: rpm, what: "-qa failed (\(exited ? "exit \((status >> 8) & 0xff)" : "signal \(status & 0x7f)")): the RPM database was not read", code: 0)
        }
        return bytes
    }
}
