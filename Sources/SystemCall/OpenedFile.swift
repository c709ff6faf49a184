import Glibc
import SystemPackage

/// A file opened by path to read facts from it: read-only, never blocking
/// (a FIFO or a device does not hold up the caller), never the caller's
/// controlling terminal, closed on exec; with its status as fstat(2) gave it
/// for this descriptor (the file read, whatever the path names later).
/// The caller closes it.
public struct OpenedFile {
    public let descriptor: FileDescriptor
    public let status: stat

    /// Throws the open or the fstat that failed, naming `path`.
    public init(path: UnsafePointer<CChar>) throws(SystemCallError) {
        let fd = try systemCall("open \(String(cString: path))") { open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
        var st = stat()
        do { _ = try systemCall("fstat \(String(cString: path))") { fstat(fd, &st) } } catch {
            _ = Glibc.close(fd)
            throw error
        }
        descriptor = FileDescriptor(rawValue: fd)
        status = st
    }

    public init(path: [UInt8]) throws(SystemCallError) {
        self = try withCPath(path) { p in Result { () throws(SystemCallError) in try OpenedFile(path: p) } }.get()
    }

    public var fd: Int32 { descriptor.rawValue }
    public var isRegular: Bool { status.st_mode & S_IFMT == S_IFREG }

    public func close() { try? descriptor.close() }
}
