import Glibc
import SystemPackage

/// The calling thread's nice value. Linux keeps one a thread, and
/// setpriority(2) with PRIO_PROCESS and 0 sets the calling thread's alone.
public enum ThreadPriority {
    /// Sets the calling thread's nice value to `-boost` (0: the default a
    /// thread starts with). A boost needs CAP_SYS_NICE.
    public static func set(boost: Int) throws(SystemCallError) {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        _ = try systemCall("setpriority (nice \(-boost))") { setpriority(which, 0, Int32(-boost)) }
    }

    /// Runs `body` with the calling thread's nice value at `-boost`, and puts
    /// it back to 0 after (a pool thread goes back to the pool as it came).
    /// `failed` hears a boost the kernel refused; `body` runs anyway.
    public static func boosted<R>(by boost: Int, failed: (SystemCallError) -> Void = { _ in }, _ body: () -> R) -> R {
        guard boost > 0 else { return body() }
        do { try set(boost: boost) } catch { failed(error) }
        defer { try? set(boost: 0) }
        return body()
    }
}
