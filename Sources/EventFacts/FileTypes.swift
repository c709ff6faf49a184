import AgentCounts
import FileType
import Glibc
import Synchronization
import SystemCall
import SystemPackage

/// `ftype` for the agent: the file type of an event's file, read through its
/// descriptor and kept by the file's identity (device, inode, size, mtime,
/// ctime), so an unchanged file is classified once and a changed one again.
/// Bounded: the cache is emptied when it holds `capacity` types. Counts how
/// many files it had to read (`files-typed`), for `fanfilter status` and the benchmark.
public final class FileTypes: Sendable {
    private let reader: FileTypeReader
    private let cache = Mutex<[FileIdentity: [UInt8]]>([:])
    private let capacity: Int
    /// Counts each file read for its type (`filesTyped`; a cached type costs no read).
    private let counters: Counters?

    public convenience init(capacity: Int = 8192) { self.init(capacity: capacity, counters: nil) }

    package init(capacity: Int = 8192, counters: Counters?) {
        reader = FileTypeReader()
        self.capacity = capacity
        self.counters = counters
    }

    /// The type kept for the file `st` describes, when it was read before.
    package func cached(_ st: stat) -> [UInt8]? {
        guard st.st_mode & S_IFMT == S_IFREG else { return nil }
        return cache.withLock { $0[FileIdentity(st)] }
    }

    /// The MIME type of the file open as `fd` (its fstat is `st`); nil when it cannot be told.
    package func mimeType(of fd: Int32, stat st: stat, interpreterIsTrusted: ([UInt8]) -> Bool) -> [UInt8]? {
        let key = FileIdentity(st)
        let regular = st.st_mode & S_IFMT == S_IFREG
        if regular, let known = cache.withLock({ $0[key] }) { return known }
        guard let type = reader.mimeType(of: fd, stat: st, interpreterIsTrusted: interpreterIsTrusted) else { return nil }
        let bytes = Array(type.utf8)
        if regular {
            counters?.increment(.filesTyped)
        }
        if regular, key.isSettled {
            cache.withLock { c in
                if c.count >= capacity { c.removeAll(keepingCapacity: true) }
                c[key] = bytes
            }
        }
        return bytes
    }

    /// The type of the file at `path`, opened read-only and non-blocking (for
    /// `fanfilter ftype` and `explain`; the agent never opens by path).
    public func mimeType(ofPath path: String, interpreterIsTrusted: ([UInt8]) -> Bool) throws(SystemCallError) -> String {
        let file = try OpenedFile(path: path)
        defer { file.close() }
        guard let type = mimeType(of: file.fd, stat: file.status, interpreterIsTrusted: interpreterIsTrusted) else {
            return "unknown (an ELF file of no class fapolicyd names, or libmagic could not say)"
        }
        return String(decoding: type, as: UTF8.self)
    }
}
