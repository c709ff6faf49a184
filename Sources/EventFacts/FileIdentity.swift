import Glibc

/// A file's identity as the caches key it: device, inode, size, and the
/// modification and change times in nanoseconds. Any change to the file's
/// contents or metadata changes it, so a cached decision or digest is never
/// served for a file that changed, provided it was kept only while the file
/// `isSettled` and no one had it open for writing (`ContentLease`): a write
/// through a shared mapping made before then moves no time.
package struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var mtime: Int64
    var ctime: Int64

    package init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        mtime = Int64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_mtim.tv_nsec)
        ctime = Int64(st.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_ctim.tv_nsec)
    }

    /// Whether any change to the file from now on must give it another
    /// identity: its times are older than the kernel's coarse clock, from
    /// which a write, a truncation or the first write through a new shared
    /// mapping takes its time. A file changed within the current clock tick
    /// may be changed again without its times moving: what was read of it is
    /// not kept by identity.
    package var isSettled: Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        let nanoseconds = Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
        return mtime < nanoseconds && ctime < nanoseconds
    }
}
