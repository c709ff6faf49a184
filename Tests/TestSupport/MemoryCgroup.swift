import Foundation
import Glibc

/// A memory cgroup of the test's own, on cgroup v2 (memory.max,
/// memory.events) or v1's memory hierarchy (memory.limit_in_bytes,
/// memory.failcnt, memory.oom_control): a process started through
/// `launcher` runs in it from its first instruction. `remove()` deletes it
/// once its processes have exited.
public final class MemoryCgroup {
    public let path: String
    private let v2: Bool

    public init() throws {
        let unified = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0
        let parent = unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory"
        if unified {
            let controllers = (try? String(contentsOfFile: parent + "/cgroup.controllers", encoding: .utf8)) ?? ""
            guard controllers.split(separator: " ").contains(where: { $0.hasPrefix("memory") }) else {
                throw SetupError(what: "cgroup v2 without the memory controller")
            }
            // Children of the root get the memory controller only when the root hands it down.
            Self.write("+memory", to: parent + "/cgroup.subtree_control")
        } else if access(parent + "/memory.limit_in_bytes", F_OK) != 0 {
            throw SetupError(what: "no memory cgroup hierarchy under /sys/fs/cgroup")
        }
        path = parent + "/fanfilter-test.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o755) == 0 else { throw SetupError(what: "mkdir \(path): errno \(errno)") }
        v2 = unified
    }

    /// Runs a command inside the cgroup: prefix its argv with this.
    public var launcher: [String] { ["/bin/sh", "-c", "echo $$ > \(path)/cgroup.procs && exec \"$@\"", "sh"] }

    /// Bytes charged to the cgroup now.
    public var usage: Int { read(v2 ? "memory.current" : "memory.usage_in_bytes") ?? 0 }

    /// The most the cgroup has held since it was made (memory.peak needs
    /// Linux 5.19; before it, what it holds now).
    public var peakUsage: Int { max(read(v2 ? "memory.peak" : "memory.max_usage_in_bytes") ?? 0, usage) }

    /// Sets the cgroup's hard limit.
    public func limit(_ bytes: Int) -> Bool {
        Self.write(String(bytes), to: path + "/" + (v2 ? "memory.max" : "memory.limit_in_bytes"))
    }

    /// How often the cgroup reached its limit (v2: `max` events; v1: failcnt).
    public var limitHits: Int { v2 ? event("max") : read("memory.failcnt") ?? 0 }

    /// Processes the kernel's OOM killer ended in the cgroup.
    public var oomKills: Int { v2 ? event("oom_kill") : field("oom_kill", in: "memory.oom_control") }

    public func remove() { rmdir(path) }

    private func read(_ name: String) -> Int? {
        (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func field(_ key: String, in name: String) -> Int {
        let text = (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line -> Int? in
            let kv = line.split(separator: " ")
            return kv.count == 2 && kv[0] == key ? Int(kv[1]) : nil
        }.first ?? 0
    }

    private func event(_ key: String) -> Int { field(key, in: "memory.events") }

    @discardableResult
    private static func write(_ text: String, to file: String) -> Bool {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) } == text.utf8.count
    }
}
