import Glibc
import SystemCall
import SystemPackage

/// The MIME type of a file as fapolicyd's `ftype` names it, read through an
/// open descriptor (the event's, never a new open by path): devices and FIFOs
/// by their mode, empty files as `application/x-empty`, ELF files by their
/// headers (`ElfFacts`), scripts by their `#!` line (`Shebang`), anything
/// else by libmagic. Reads are bounded: a few headers, at most 64 KiB of
/// ELF tables, and `MagicLibrary.bytesRead` for libmagic.
public struct FileTypeReader: Sendable {
    public let magic: MagicLibrary

    public init(magic: MagicLibrary = MagicLibrary()) { self.magic = magic }

    /// - Parameters:
    ///   - st: the descriptor's fstat.
    ///   - interpreterIsTrusted: asked about an ELF interpreter that is not a known runtime linker.
    public func mimeType(of fd: Int32, stat st: stat, interpreterIsTrusted: ([UInt8]) -> Bool) -> String? {
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFCHR: return "inode/chardevice"
        case S_IFBLK: return "inode/blockdevice"
        case S_IFIFO: return "inode/fifo"
        case S_IFSOCK: return "inode/socket"
        case S_IFDIR: return "inode/directory"
        default: return nil
        }
        guard st.st_size > 0 else { return "application/x-empty" }
        let size = UInt64(st.st_size)
        let read: (UInt64, Int) -> [UInt8] = { offset, count in Self.read(fd, at: offset, count: count) }
        let header = read(0, 512)
        if let elf = ElfFacts(size: size, read: read) {
            return elf.mimeType(interpreterIsTrusted: interpreterIsTrusted)
        }
        if let interpreter = Shebang.interpreter(header), let type = Shebang.mimeType(interpreter: interpreter) {
            return type
        }
        return magic.mimeType(of: fd)
    }

    /// Up to `count` bytes at `offset` (fewer at the end of the file or on an error).
    public static func read(_ fd: Int32, at offset: UInt64, count: Int) -> [UInt8] {
        guard count > 0, offset < UInt64(Int64.max) else { return [] }
        return (try? FileDescriptor(rawValue: fd).read(count: count, at: Int64(offset))) ?? []
    }
}
