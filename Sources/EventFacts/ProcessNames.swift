import Glibc
import Synchronization
import SystemPackage

/// The names (`comm`) of the processes that raised events lately, read
/// through their /proc/PID/comm kept open: a pread for each event instead of
/// an open, a read and a close (about 2 µs of the agent's time here, on every
/// event whose rules need `comm` and on every event asked of a client, whose
/// message carries it). The kernel makes the name anew for each read, so a
/// name changed since (exec, prctl, a write to comm) is read as it is now.
///
/// Guarantee: a name read is that of the process `pid` denotes when it is
/// read, never that of an exited process whose pid was reused. A file kept
/// open stays bound to the process it was opened for, and reading it fails
/// (ESRCH) once that process has exited, even if its pid has a new owner;
/// the file is then closed and /proc/PID/comm opened anew. At most
/// `capacity` files are open at once: a new process takes the place of the
/// one looked up least recently. Safe from any thread.
package final class ProcessNames: Sendable {
    /// Most processes that raise events on a server at one time (workers, shells, daemons).
    static let defaultCapacity = 64

    private struct Kept {
        var pid: Int32
        var file: FileDescriptor
        var lastUse: UInt64
    }

    private struct Table {
        var kept: [Kept] = []
        var uses: UInt64 = 0
    }

    let capacity: Int
    /// Held across each read, so no file is closed (and its number reused) while another thread reads it.
    private let table = Mutex(Table())

    package init(capacity: Int = ProcessNames.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    deinit {
        table.withLock { t in for entry in t.kept { try? entry.file.close() } }
    }

    /// `pid`'s name as /proc shows it (with its newline), nil when the process is gone.
    func name(of pid: Int32) -> [UInt8]? {
        table.withLock { t -> [UInt8]? in
            t.uses += 1
            if let i = t.kept.firstIndex(where: { $0.pid == pid }) {
                if let name = Self.read(t.kept[i].file) {
                    t.kept[i].lastUse = t.uses
                    return name
                }
                // Its process has exited: the pid names another one now, or none.
                try? t.kept[i].file.close()
                t.kept.remove(at: i)
            }
            guard let file = ProcFacts.withProcPath("/proc/", pid, "/comm", { try? FileDescriptor.open($0, .readOnly, options: .closeOnExec) }) else {
                return nil
            }
            guard let name = Self.read(file) else {
                try? file.close()
                return nil
            }
            let entry = Kept(pid: pid, file: file, lastUse: t.uses)
            if t.kept.count < capacity {
                t.kept.append(entry)
            } else if let oldest = t.kept.indices.min(by: { t.kept[$0].lastUse < t.kept[$1].lastUse }) {
                try? t.kept[oldest].file.close()
                t.kept[oldest] = entry
            }
            return name
        }
    }

    /// How many files are open now.
    var openCount: Int { table.withLock { $0.kept.count } }

    /// A comm file's contents (at most 64 bytes: the kernel's TASK_COMM_LEN is 16); nil when it cannot be read.
    private static func read(_ file: FileDescriptor) -> [UInt8]? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer -> [UInt8]? in
            guard let n = try? file.read(fromAbsoluteOffset: 0, into: UnsafeMutableRawBufferPointer(buffer)), n > 0 else { return nil }
            return Array(buffer[..<n])
        }
    }
}
