import Glibc
import Policy

/// The facts of a file named by path, as the agent would see them through an
/// event fd (for `fanfilter explain`; the agent itself never opens by path).
/// A file that cannot be opened has its path alone.
extension ObjectFacts {
    public init(reading path: [UInt8], hashMaxSize: UInt64) {
        self = objectFacts(path: path, hashMaxSize: hashMaxSize)
    }
}

private func objectFacts(path: [UInt8], hashMaxSize: UInt64) -> ObjectFacts {
    let fd = withCPath(path) { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
    guard fd >= 0 else { return ObjectFacts(path: path) }
    defer { close(fd) }
    var st = stat()
    // Only a regular file's facts are read: a device or FIFO has no size or contents to speak of.
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return ObjectFacts(path: ProcFacts.path(of: fd) ?? path) }
    var facts = ProcFacts.object(path: ProcFacts.path(of: fd) ?? path, stat: st,
                                 needs: [.size, .device, .fstype], mounts: MountTable())
    facts.sha256 = ObjectHasher(capacity: 1).sha256(of: fd, maxSize: hashMaxSize)
    return facts
}
