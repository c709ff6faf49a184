import CFanotify
import Glibc

/// Whether this kernel reports renames on the filesystem holding `path` to a
/// notification group with FAN_REPORT_DFID_NAME, the mark the agent's rename
/// watcher asks for. Debian 11's 5.10 refuses it on tmpfs; there the agent
/// caches no allow in the kernel, and tests of rename watching need another
/// filesystem (`Sandbox(filesystem: .ext4Image)`).
public func renamesAreReported(onFilesystemOf path: String) -> Bool {
    let group = cfan_init(UInt32(FAN_CLASS_NOTIF | FAN_CLOEXEC) | UInt32(FAN_REPORT_DFID_NAME))
    guard group >= 0 else { return false }
    defer { close(group) }
    let mask = UInt64(FAN_MOVED_TO) | UInt64(FAN_CREATE) | UInt64(FAN_ONDIR)
    return cfan_mark(group, UInt32(FAN_MARK_ADD | FAN_MARK_FILESYSTEM), mask, path) == 0
}
