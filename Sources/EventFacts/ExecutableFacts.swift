import CFanotify
import Fanotify
import Glibc
import Policy
import SystemCall
import TrustStore

/// The facts of a process's executable that a rule may test before the colon
/// (`ftype`, `device`, `trust`), read through /proc/PID/exe: the kernel's own
/// link to the file the process runs, not a path the process could change.
/// Its contents are read (for `ftype`, and `trust` with an integrity check)
/// only on a filesystem that cannot stall the reader (not FUSE), and the
/// facts are dropped when the process has exited meanwhile, so they never
/// belong to a later process with the same pid.
package enum ExecutableFacts {
    /// Learns them; false when that needs the executable opened and `mayOpen`
    /// is false (the event reader's own open would wait for itself): then the
    /// caller must learn them where it may wait.
    package static func learn(_ subject: inout SubjectFacts, pidfd: Int32, needs: Facts, mounts: MountTable,
                      types: FileTypes, trust: TrustChecker, hasher: ObjectHasher, hashMaxSize: UInt64,
                      mayOpen: Bool = true) -> Bool {
        guard !needs.isDisjoint(with: [.exeType, .exeDevice, .exeTrust]), let exe = subject.exe else { return true }
        let learned = ProcFacts.withExecutable(of: subject.pid) { link, st, _ -> (facts: SubjectFacts, wouldOpen: Bool) in
            var facts = subject
            let mount = mounts.lookUp(device: UInt64(st.st_dev))
            if needs.contains(.exeDevice) { facts.exeDevice = mount?.source }
            let readable = !(mount?.fstype.starts(with: Array("fuse".utf8)) ?? true)
            // The contents are read only when a cache keyed by the file's identity (from the
            // stat above, no open) misses: the agent's own open of an executable is an event too.
            var executable: OpenedFile?
            var opened = false
            var wouldOpen = false
            func file() -> Int32? {
                if !opened, readable, !mayOpen { wouldOpen = true }
                if !opened, readable, mayOpen {
                    opened = true
                    // Answered at once by the event reader (the agent's own process); this runs on a worker.
                    executable = try? OpenedFile(path: link)
                    if let now = executable, FileIdentity(now.status) != FileIdentity(st) {
                        now.close()  // replaced between the stat and the open: no facts from it
                        executable = nil
                    }
                }
                return executable?.fd
            }
            defer { executable?.close() }
            if needs.contains(.exeType) {
                facts.exeType = types.cached(st) ?? file().flatMap { types.mimeType(of: $0, stat: st) { trust.lists($0) } }
            }
            if needs.contains(.exeTrust) {
                let outcome = trust.check(path: exe, stat: st, verity: { file().flatMap(Verity.digest(of:)) }) { algorithm in
                    if let hit = hasher.cached(st, algorithm, maxSize: hashMaxSize) { return .digest(hit) }
                    return .digest(file().flatMap { hasher.digest(of: $0, algorithm, maxSize: hashMaxSize) })
                }
                if case .trusted(let yes) = outcome { facts.exeTrusted = yes }
            }
            return (facts, wouldOpen)
        }
        guard let learned else { return true }
        subject = learned.facts
        if pidfd >= 0, cfan_pidfd_alive(pidfd) != 0 {
            subject.exeType = nil
            subject.exeDevice = nil
            subject.exeTrusted = nil
        }
        return !learned.wouldOpen
    }
}
