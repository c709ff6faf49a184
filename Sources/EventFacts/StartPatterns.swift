import CFanotify
import Clocks
import Dispatch
import FileType
import Glibc
import Policy
import Synchronization
import SystemCall
import SystemPackage

/// `pattern=`: how each process was started, learned from the events of its
/// start. An execution of an ELF program with an interpreter makes the
/// process `normal` and expects that interpreter next (the kernel loads it
/// with an execution event of its own); an execution of a runtime linker
/// that was not expected, so one named as the command, makes it `ld_so`; a
/// program with no interpreter and no dynamic section is `static`. During the
/// first opens after an execution, the new program's environment is read
/// once for LD_PRELOAD and LD_AUDIT (`ld_preload`). A process is known by
/// its pidfd's inode, unique for the machine's uptime, so a reused pid never
/// inherits a state. Bounded: at most `capacity` processes; past it the
/// states of processes that have exited are dropped, and the oldest half if
/// that was not enough. A process whose start was not seen is `ld_so` when its
/// executable is a runtime linker, and otherwise none of them (an empty
/// pattern, known); only a process whose executable cannot be read has an
/// unknown one (nil), which a `deny` rule's `pattern=` test then holds for.
package final class StartPatterns: Sendable {
    private struct Start {
        var pattern: StartPattern
        /// The interpreter the kernel will load next, by identity.
        var awaiting: (device: UInt64, inode: UInt64)?
        /// The program executed: its own open event comes before the new image runs.
        var program: (device: UInt64, inode: UInt64)?
        /// Opens left in which to look at the environment.
        var environmentLooks: Int
        var sequence: UInt64
        /// The process, to drop its state once it has exited.
        var pid: Int32 = 0
        /// The last execution event taken: a decision tried again (by a worker,
        /// after the reader found it would wait) moves the state on once.
        var lastEvent: UInt64 = 0
    }

    private struct State {
        var byProcess: [UInt64: Start] = [:]
        var sequence: UInt64 = 0
    }

    /// What an execution's ELF headers say of a start, by the file's identity.
    private struct Program {
        var isStatic: Bool
        var interpreter: (device: UInt64, inode: UInt64)?
        var isElf: Bool
    }

    private let state = Mutex(State())
    /// The runtime linkers' identities, looked up again at most every 10 s (an upgrade replaces them).
    private let linkers = Mutex<(at: UInt64, identities: [(UInt64, UInt64)])>((0, []))
    /// Recent programs' headers, so a repeated execution reads none.
    private let programs = Mutex<[FileIdentity: Program]>([:])
    let capacity: Int
    static let environmentLooks = 4
    /// How long a process's environment is waited for.
    static let environmentWait = DispatchTimeInterval.milliseconds(50)

    package init(capacity: Int = 16384) { self.capacity = capacity }

    /// Whether the file is one of the runtime linkers fapolicyd knows (their paths are often links).
    func isRuntimeLinker(_ file: (UInt64, UInt64)) -> Bool {
        let now = SystemClock().now()
        let known = linkers.withLock { l -> [(UInt64, UInt64)] in
            if l.at == 0 || now &- l.at > 10_000_000_000 {
                l = (now, ElfFacts.knownInterpreters.compactMap(Self.identity(of:)))
            }
            return l.identities
        }
        return known.contains { $0 == file }
    }

    /// The headers of the program open as `fd`, read once per identity.
    private func program(_ fd: Int32, _ st: stat) -> Program {
        let key = FileIdentity(st)
        if let known = programs.withLock({ $0[key] }) { return known }
        let elf = ElfFacts(size: UInt64(max(0, st.st_size))) { FileTypeReader.read(fd, at: $0, count: $1) }
        let program: Program
        if let elf, !elf.malformed {
            // Only a runtime linker fapolicyd knows is looked up: an interpreter path is the
            // file's to choose, and a stat of one on a user's FUSE mount could stall.
            let known = elf.interpreter.flatMap { ElfFacts.isRuntimeLinker($0) ? $0 : nil }
            program = Program(isStatic: elf.interpreter == nil && !elf.dynamic,
                              interpreter: known.flatMap(Self.identity(of:)), isElf: true)
        } else {
            program = Program(isStatic: false, interpreter: nil, isElf: false)
        }
        if key.isSettled {
            programs.withLock { p in
                if p.count >= 4096 { p.removeAll(keepingCapacity: true) }
                p[key] = program
            }
        }
        return program
    }

    /// What `pattern` found: the process's patterns, or that finding them
    /// needs a read the caller may not make (see `mayRead`).
    package enum Lookup: Equatable {
        case known(StartPattern?)
        case needsRead
    }

    /// Notes an event (an execution moves the state on) and returns the
    /// process's patterns. With `mayRead` false nothing is read that could
    /// wait (a program's headers not seen before, a process's environment):
    /// `.needsRead`, and the state is left as it was.
    /// - Parameter executable: the identity of the process's executable, from
    ///   what the kernel has cached (asked only for a start not seen).
    /// - Parameter preload: whether to look for `ld_preload` at all (a rule tests it).
    package func pattern(pid: Int32, pidfd: Int32, access: Access, event: UInt64, file fd: Int32, stat st: stat, mayRead: Bool = true,
                 preload: Bool = true, executable: () -> (UInt64, UInt64)?) -> Lookup {
        let key = Self.processKey(pid: pid, pidfd: pidfd)
        if access == .execute {
            let identity = (UInt64(st.st_dev), UInt64(st.st_ino))
            let linker = isRuntimeLinker(identity)
            var started: Program?
            if !linker {
                if !mayRead, programs.withLock({ $0[FileIdentity(st)] }) == nil { return .needsRead }
                started = program(fd, st)
            }
            return .known(state.withLock { s -> StartPattern in
                if let seen = s.byProcess[key], seen.lastEvent == event { return seen.pattern }
                s.sequence += 1
                var start = s.byProcess[key] ?? Start(pattern: [], awaiting: nil, program: nil, environmentLooks: 0, sequence: 0)
                if let awaited = start.awaiting, awaited == identity {
                    start.awaiting = nil  // the interpreter of the program just executed
                } else if linker {
                    start = Start(pattern: .ldSo, awaiting: nil, program: identity, environmentLooks: Self.environmentLooks, sequence: 0)
                } else if let started, started.isElf {
                    start = Start(pattern: started.isStatic ? .static : .normal, awaiting: started.interpreter,
                                  program: identity, environmentLooks: Self.environmentLooks, sequence: 0)
                } else {
                    start = Start(pattern: [], awaiting: nil, program: identity, environmentLooks: Self.environmentLooks, sequence: 0)
                }
                start.sequence = s.sequence
                start.pid = pid
                start.lastEvent = event
                s.byProcess[key] = start
                trim(&s)
                return start.pattern
            })
        }
        let opened = (UInt64(st.st_dev), UInt64(st.st_ino))
        let looked = state.withLock { s -> (start: Start?, look: Bool) in
            guard var start = s.byProcess[key] else { return (nil, false) }
            guard preload, start.environmentLooks > 0, !start.pattern.contains(.ldPreload),
                  start.program.map({ $0 != opened }) ?? true else { return (start, false) }
            guard mayRead else { return (start, true) }
            start.environmentLooks -= 1
            s.byProcess[key] = start
            return (start, true)
        }
        guard let start = looked.start else {
            // Not seen starting: only a runtime linker running as the program can be told, and
            // otherwise it is none of them. With no executable to look at, it is not known.
            guard let identity = executable() else { return .known(nil) }
            return .known(isRuntimeLinker(identity) ? .ldSo : [])
        }
        guard looked.look else { return .known(start.pattern) }
        guard mayRead else { return .needsRead }
        // The environment is the process's own memory, which it may map from a server that never
        // answers: read on a thread of its own, and not known when it does not come in time.
        let user = ProcFacts.realUID(pid: pid, pidfd: pidfd) ?? UInt32.max
        guard let read = StallableRead.shared.run(for: user, within: Self.environmentWait, { Self.preloads(pid: pid) }),
              let preloads = read else { return .known(nil) }
        guard preloads, pidfd < 0 || cfan_pidfd_alive(pidfd) == 0 else { return .known(start.pattern) }
        return .known(state.withLock { s in
            s.byProcess[key]?.pattern.insert(.ldPreload)
            return s.byProcess[key]?.pattern ?? start.pattern.union(.ldPreload)
        })
    }

    /// How many processes' states are kept.
    var count: Int { state.withLock { $0.byProcess.count } }

    private func trim(_ s: inout State) {
        guard s.byProcess.count > capacity else { return }
        s.byProcess = s.byProcess.filter { entry in
            do throws(SystemCallError) {
                _ = try systemCall("kill \(entry.value.pid), 0") { kill(entry.value.pid, 0) }
                return true
            } catch { return error.errno != .noSuchProcess }  // EPERM: it is there
        }
        guard s.byProcess.count > capacity * 3 / 4 else { return }
        let cut = s.sequence - UInt64(capacity / 2)
        s.byProcess = s.byProcess.filter { $0.value.sequence > cut }
    }

    /// The pidfd's inode (unique per process on pidfs), or the pid without one.
    /// The process's key: its pidfd's inode where pidfds have inodes of their
    /// own (pidfs, 6.9); before, every pidfd shares one anonymous inode, and
    /// a key from it made every process one (found on Debian 11's 5.10: a
    /// runtime linker named as the command took another process's `normal`).
    /// Else the pid and the process's start time, which a reused pid does not
    /// share; the pid alone when /proc cannot say.
    static func processKey(pid: Int32, pidfd: Int32) -> UInt64 {
        if pidfd >= 0, pidfdsHaveInodes, let st = try? FileDescriptor(rawValue: pidfd).stat(), st.inode.rawValue > 1 {
            return UInt64(st.inode.rawValue)
        }
        let pidBits = UInt64(UInt32(bitPattern: pid)) & 0x3F_FFFF
        guard let started = ProcFacts.startTime(pid: pid) else { return pidBits | 1 << 63 }
        return (started << 22 | pidBits) | 1 << 63
    }

    /// Whether pidfds have inodes of their own (pidfs: its magic number 0x50494446).
    static let pidfdsHaveInodes = cfan_pidfds_have_inodes() == 1

    static func identity(of path: [UInt8]) -> (UInt64, UInt64)? {
        guard let st = try? withCPath(path, { FilePath(platformString: $0) }).stat() else { return nil }
        return (UInt64(st.deviceID.rawValue), UInt64(st.inode.rawValue))
    }

    /// LD_PRELOAD= or LD_AUDIT= with a value, in the first 256 KiB of
    /// /proc/PID/environ, read 16 KiB at a time (most environments are one
    /// read). nil when the environment cannot be read whole: the kernel reads
    /// it from the process's anonymous memory only, so a process that mapped
    /// a file over it (hiding an LD_PRELOAD its loader has used) reads short.
    static func preloads(pid: Int32) -> Bool? {
        guard let environ = ProcFacts.withProcPath("/proc/", pid, "/environ", { try? FileDescriptor.open($0, .readOnly, options: .closeOnExec) }) else {
            return nil
        }
        defer { try? environ.close() }
        let fd = environ.rawValue
        // Its length: fields 50 and 51 of /proc/PID/stat (env_start, env_end).
        guard let stat = ProcFacts.withProcPath("/proc/", pid, "/stat", ProcFacts.readSmallFile),
              let name = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = stat[(name + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 48, let start = UInt64(String(decoding: fields[47], as: UTF8.self)),
              let end = UInt64(String(decoding: fields[48], as: UTF8.self).prefix { $0.isNumber }), end >= start else { return nil }
        let length = min(end - start, 256 * 1024)
        var carry: [UInt8] = []
        var offset: UInt64 = 0
        while offset < 256 * 1024 {
            let chunk = FileTypeReader.read(fd, at: offset, count: 16 * 1024)
            guard !chunk.isEmpty else { return offset < length ? nil : false }
            offset += UInt64(chunk.count)
            // A variable cut at the chunk's end is finished with the next one.
            var variables = (carry + chunk).split(separator: 0, omittingEmptySubsequences: false)
            carry = chunk.count == 16 * 1024 ? Array(variables.removeLast()) : []
            for variable in variables {
                for name in ["LD_PRELOAD=", "LD_AUDIT="] where variable.starts(with: name.utf8) && variable.count > name.utf8.count {
                    return true
                }
            }
        }
        return offset < length ? nil : false
    }
}
