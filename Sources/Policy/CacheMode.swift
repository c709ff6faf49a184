/// `cache = kernel`: an allow that no other process could get otherwise puts
/// an evictable ignore mark on the file's inode, so its further opens never
/// leave the kernel (until it is modified, or a reload), and every other
/// decision is kept in the agent's own cache. `user`: the agent's cache alone.
/// `off`: every access is decided.
public enum CacheMode: String, Sendable, Equatable, CaseIterable {
    case kernel, user, off
}
