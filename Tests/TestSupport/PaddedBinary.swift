import Glibc
import Policy

extension KernelTestCase {
    /// A copy of the program `source` padded to `megabytes` more (an ELF
    /// file runs with bytes after its end), and its SHA-256 in hex: a binary
    /// that takes a while to hash.
    public func paddedBinary(_ name: String, from source: String, megabytes: Int, fill: UInt8 = 0) -> (path: [UInt8], sha256: String) {
        let fd = open(source, O_RDONLY)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while case let n = chunk.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }), n > 0 { bytes += chunk[..<n] }
        close(fd)
        bytes += [UInt8](repeating: fill, count: megabytes << 20)
        let path = sandbox.file(name, contents: bytes, mode: 0o755)
        let sum = Child(["/usr/bin/sha256sum", printable(path)]).wait().output
        return (path, String(sum.prefix(64)))
    }
}
