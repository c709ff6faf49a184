import Glibc
import SystemPackage

/// A file read or written whole: never more read than a limit, and never a
/// half-written file seen by a reader.
public enum WholeFile {
    /// The whole of the file at `path`, at most `limit` bytes; nil when it
    /// cannot be opened or read whole. With `regularOnly`, nil for anything
    /// but a regular file (opened without blocking, so a FIFO cannot hang
    /// the reader).
    public static func read(_ path: String, limit: Int = 64 << 20, regularOnly: Bool = false) -> [UInt8]? {
        let options: FileDescriptor.OpenOptions = regularOnly ? [.closeOnExec, .nonBlocking, FileDescriptor.OpenOptions(rawValue: O_NOCTTY)] : .closeOnExec
        guard let file = try? FileDescriptor.open(path, .readOnly, options: options) else { return nil }
        defer { try? file.close() }
        if regularOnly {
            var st = stat()
            guard fstat(file.rawValue, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= limit else { return nil }
        }
        return try? file.readToEnd(limit: limit)
    }

    /// Writes `bytes` beside `path` (at `path` + `temporarySuffix`, a
    /// symbolic link there refused), mode 0644 whatever the umask, flushed to
    /// disk first when `synced`, then renames it over `path`: a reader sees
    /// the old file or the new one, never part of one. Throws the call that
    /// failed; the temporary file is removed then.
    public static func replace(_ path: String, with bytes: [UInt8], temporarySuffix: String = ".new",
                               synced: Bool = false) throws(SystemCallError) {
        let temporary = path + temporarySuffix
        do throws(SystemCallError) {
            let file: FileDescriptor
            do {
                file = try FileDescriptor.open(temporary, .writeOnly, options: [.create, .truncate, .closeOnExec, .noFollow],
                                               permissions: [.ownerReadWrite, .groupRead, .otherRead])
            } catch { throw SystemCallError("open \(temporary)", (error as? Errno) ?? .ioError) }
            defer { try? file.close() }
            do { _ = try file.writeAll(bytes) } catch { throw SystemCallError("write \(temporary)", (error as? Errno) ?? .ioError) }
            _ = try systemCall("fchmod \(temporary)") { fchmod(file.rawValue, 0o644) }
            if synced { _ = try systemCall("fsync \(temporary)") { fsync(file.rawValue) } }
            _ = try systemCall("rename \(temporary) to \(path)") { rename(temporary, path) }
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }
}
