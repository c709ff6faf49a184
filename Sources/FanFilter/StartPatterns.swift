import CFanotify
import FileType
import Glibc
import Policy
import Synchronization

/// `pattern=`: how each process was started, learned from the events of its
/// start. An execution of an ELF program with an interpreter makes the
/// process `normal` and expects that interpreter next (the kernel loads it
/// with an execution event of its own); an execution of a runtime linker
/// that was not expected, so one named as the command, makes it `ld_so`; a
/// program with no interpreter and no dynamic section is `static`. During the
/// first opens after an execution, the new program's environment is read
/// once for LD_PRELOAD and LD_AUDIT (`ld_preload`). A process is known by
/// its pidfd's inode, unique for the machine's uptime, so a reused pid never
/// inherits a state. Bounded: at most `capacity` processes, the oldest half
/// dropped past it. A process whose start was not seen is `ld_so` when its
/// executable is a runtime linker, and otherwise none of them.
final class StartPatterns: Sendable {
    private struct Start {
        var pattern: StartPattern
        /// The interpreter the kernel will load next, by identity.
        var awaiting: (device: UInt64, inode: UInt64)?
        /// Opens left in which to look at the environment.
        var environmentLooks: Int
        var sequence: UInt64
    }

    private struct State {
        var byProcess: [UInt64: Start] = [:]
        var sequence: UInt64 = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    static let environmentLooks = 4

    init(capacity: Int = 16384) { self.capacity = capacity }

    /// Notes an event (an execution moves the state on) and returns the process's patterns.
    func pattern(pid: Int32, pidfd: Int32, access: Access, file fd: Int32, stat st: stat, exe: [UInt8]?) -> StartPattern? {
        let key = Self.processKey(pid: pid, pidfd: pidfd)
        if access == .execute {
            let elf = ElfFacts(size: UInt64(max(0, st.st_size))) { FileTypeReader.read(fd, at: $0, count: $1) }
            let identity = (UInt64(st.st_dev), UInt64(st.st_ino))
            return state.withLock { s -> StartPattern in
                s.sequence += 1
                var start = s.byProcess[key] ?? Start(pattern: [], awaiting: nil, environmentLooks: 0, sequence: 0)
                if let awaited = start.awaiting, awaited == identity {
                    start.awaiting = nil  // the interpreter of the program just executed
                } else if Self.isRuntimeLinker(identity) {
                    start = Start(pattern: .ldSo, awaiting: nil, environmentLooks: Self.environmentLooks, sequence: 0)
                } else if let elf, !elf.malformed {
                    let interpreter = elf.interpreter.flatMap(Self.identity(of:))
                    let isStatic = elf.interpreter == nil && !elf.dynamic
                    start = Start(pattern: isStatic ? .static : .normal, awaiting: interpreter,
                                  environmentLooks: Self.environmentLooks, sequence: 0)
                } else {
                    start = Start(pattern: [], awaiting: nil, environmentLooks: Self.environmentLooks, sequence: 0)
                }
                start.sequence = s.sequence
                s.byProcess[key] = start
                trim(&s)
                return start.pattern
            }
        }
        let looked = state.withLock { s -> (Start?, Bool) in
            guard var start = s.byProcess[key] else { return (nil, false) }
            guard start.environmentLooks > 0, !start.pattern.contains(.ldPreload) else { return (start, false) }
            start.environmentLooks -= 1
            s.byProcess[key] = start
            return (start, true)
        }
        guard let start = looked.0 else {
            // Not seen starting: only a runtime linker running as the program can be told.
            guard let exe, let identity = Self.identity(of: exe) else { return nil }
            return Self.isRuntimeLinker(identity) ? .ldSo : nil
        }
        guard looked.1, Self.preloads(pid: pid), pidfd < 0 || cfan_pidfd_alive(pidfd) == 0 else { return start.pattern }
        return state.withLock { s in
            s.byProcess[key]?.pattern.insert(.ldPreload)
            return s.byProcess[key]?.pattern ?? start.pattern.union(.ldPreload)
        }
    }

    private func trim(_ s: inout State) {
        guard s.byProcess.count > capacity else { return }
        let cut = s.sequence - UInt64(capacity / 2)
        s.byProcess = s.byProcess.filter { $0.value.sequence > cut }
    }

    /// The pidfd's inode (unique per process on pidfs), or the pid without one.
    static func processKey(pid: Int32, pidfd: Int32) -> UInt64 {
        var st = stat()
        if pidfd >= 0, fstat(pidfd, &st) == 0, st.st_ino > 1 { return UInt64(st.st_ino) }
        return UInt64(UInt32(bitPattern: pid)) | 1 << 63
    }

    static func identity(of path: [UInt8]) -> (UInt64, UInt64)? {
        var st = stat()
        let ok = (path + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { stat($0.baseAddress!, &st) } }
        return ok == 0 ? (UInt64(st.st_dev), UInt64(st.st_ino)) : nil
    }

    /// Whether the file is one of the runtime linkers fapolicyd knows (their paths are often links).
    static func isRuntimeLinker(_ file: (UInt64, UInt64)) -> Bool {
        ElfFacts.knownInterpreters.contains { identity(of: $0).map { $0 == file } ?? false }
    }

    /// LD_PRELOAD= or LD_AUDIT= with a value, in the first 256 KiB of /proc/PID/environ.
    static func preloads(pid: Int32) -> Bool {
        let fd = ProcFacts.withProcPath("/proc/", pid, "/environ") { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = FileTypeReader.read(fd, at: 0, count: 256 * 1024)
        for variable in bytes.split(separator: 0) {
            for name in ["LD_PRELOAD=", "LD_AUDIT="] where variable.starts(with: name.utf8) && variable.count > name.utf8.count {
                return true
            }
        }
        return false
    }
}
