import SystemPackage

extension FileDescriptor {
    /// The file's bytes from its offset to its end, read in chunks (EINTR
    /// retried, as every swift-system call is): at most `limit`. Never reads
    /// more than one byte past `limit`, whatever the file turns out to hold.
    /// Throws `Errno.fileTooLarge` past it, or the error of the read that failed.
    public func readToEnd(limit: Int) throws(Errno) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Swift.min(1 << 16, limit + 1))
        while true {
            let want = Swift.min(chunk.count, limit + 1 - bytes.count)
            let n: Int
            do { n = try chunk.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) } } catch {
                throw (error as? Errno) ?? .ioError
            }
            if n == 0 { return bytes }
            bytes += chunk[..<n]
            if bytes.count > limit { throw .fileTooLarge }
        }
    }

    /// Up to `count` bytes from `offset` (pread: the descriptor's own offset
    /// is left alone), fewer at end of file; EINTR retried. Throws the
    /// error of the read that failed before any byte came.
    public func read(count: Int, at offset: Int64) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n: Int
            do {
                n = try bytes.withUnsafeMutableBytes {
                    try read(fromAbsoluteOffset: offset + Int64(got), into: UnsafeMutableRawBufferPointer(rebasing: $0[got...]))
                }
            } catch {
                if got > 0 { break }
                throw (error as? Errno) ?? .ioError
            }
            if n == 0 { break }
            got += n
        }
        bytes.removeSubrange(got...)
        return bytes
    }
}
