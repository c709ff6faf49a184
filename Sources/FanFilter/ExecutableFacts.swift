import CFanotify
import Glibc
import Policy
import TrustStore

/// The facts of a process's executable that a rule may test before the colon
/// (`ftype`, `device`, `trust`), read through /proc/PID/exe: the kernel's own
/// link to the file the process runs, not a path the process could change.
/// Its contents are read (for `ftype`, and `trust` with an integrity check)
/// only on a filesystem that cannot stall the reader (not FUSE), and the
/// facts are dropped when the process has exited meanwhile, so they never
/// belong to a later process with the same pid.
enum ExecutableFacts {
    static func learn(_ subject: inout SubjectFacts, pidfd: Int32, needs: Facts, mounts: MountTable,
                      types: FileTypes, trust: TrustChecker, hasher: ObjectHasher, hashMaxSize: UInt64) {
        guard !needs.isDisjoint(with: [.exeType, .exeDevice, .exeTrust]), let exe = subject.exe else { return }
        let pid = subject.pid
        var st = stat()
        var mountID: UInt64 = 0
        guard ProcFacts.withProcPath("/proc/", pid, "/exe", { cfan_stat_mount_cached($0, &st, &mountID) }) == 0 else { return }
        let mount = mounts.lookUp(device: UInt64(st.st_dev))
        if needs.contains(.exeDevice) { subject.exeDevice = mount?.source }
        let readable = !(mount?.fstype.starts(with: Array("fuse".utf8)) ?? true)
        let readsContents = needs.contains(.exeType) || (needs.contains(.exeTrust) && trust.integrity == .sha256)
        var fd: Int32 = -1
        if readsContents, readable {
            // The agent's own open: its reader answers it at once, and this runs on a worker.
            fd = ProcFacts.withProcPath("/proc/", pid, "/exe") { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        }
        defer { if fd >= 0 { close(fd) } }
        if fd >= 0, fstat(fd, &st) != 0 { return }
        if needs.contains(.exeType), fd >= 0 {
            subject.exeType = types.mimeType(of: fd, stat: st, path: exe) { trust.lists($0) }
        }
        if needs.contains(.exeTrust) {
            switch trust.check(path: exe, stat: st, verity: { fd >= 0 ? Verity.digest(of: fd) : nil }, digest: { algorithm in
                fd >= 0 ? .digest(hasher.digest(of: fd, algorithm, maxSize: hashMaxSize)) : .digest(nil)
            }) {
            case .trusted(let yes): subject.exeTrusted = yes
            case .late, .busy: break
            }
        }
        if pidfd >= 0, cfan_pidfd_alive(pidfd) != 0 {
            subject.exeType = nil
            subject.exeDevice = nil
            subject.exeTrusted = nil
        }
    }
}
