import Glibc
import XCTest

/// Debian's auditd for one test, with a configuration folder and a log of its
/// own, and ausearch over that log. It also loads one syscall rule that
/// matches nothing the tests do: while no rule is loaded the kernel keeps no
/// audit context for a process and writes no FANOTIFY record. `stop()` ends
/// the daemon and deletes the rules.
public final class AuditDaemon {
    private let folder: Sandbox
    private let daemon: Child
    /// The kernel's `enabled` before the daemon set it, put back by `stop()`.
    private let enabledBefore: String
    private var log: String { folder.root + "/audit.log" }

    public init() throws {
        for tool in ["/usr/sbin/auditd", "/usr/sbin/auditctl", "/usr/sbin/ausearch"] where access(tool, X_OK) != 0 {
            throw SetupError(what: "\(tool) is missing (sudo tools/deps.sh test installs auditd)")
        }
        enabledBefore = Child(["/usr/sbin/auditctl", "-s"]).wait().lines.first { $0.hasPrefix("enabled ") }.map { String($0.dropFirst(8)) } ?? "0"
        folder = try Sandbox(unmountedIn: "/run")
        let conf = "log_file = \(folder.root)/audit.log\nlog_format = ENRICHED\nflush = SYNC\nwrite_logs = yes\nlocal_events = yes\nmax_log_file_action = IGNORE\nspace_left = 2\nadmin_space_left = 1\nspace_left_action = IGNORE\nadmin_space_left_action = IGNORE\ndisk_full_action = IGNORE\ndisk_error_action = IGNORE\n"
        let fd = open(folder.root + "/auditd.conf", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SetupError(what: "cannot write auditd.conf: errno \(errno)") }
        _ = conf.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        // -n: in the foreground, writing the log (-f would send the records to stderr instead).
        daemon = Child(["/usr/sbin/auditd", "-n", "-c", folder.root], mergeStderr: true)
        let pid = daemon.pid
        guard eventually(timeout: .seconds(20), every: .milliseconds(50), {
            Child(["/usr/sbin/auditctl", "-s"]).wait().lines.contains("pid \(pid)")
        }) else {
            kill(pid, SIGKILL)
            let r = daemon.wait(timeout: .seconds(10))
            folder.remove()
            throw SetupError(what: "auditd did not take the kernel's audit log: \(r.output)")
        }
        let rule = Child(["/usr/sbin/auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "kexec_load", "-k", "fanfilter-test"],
                         mergeStderr: true).wait()
        XCTAssertEqual(rule.status, 0, "auditctl loads a rule: \(rule.output)")
    }

    /// What ausearch prints for the log's events with a record of `type`, each whole.
    public func search(ofType type: String) -> String {
        Child(["/usr/sbin/ausearch", "--input", log, "-m", type, "--raw"], mergeStderr: true).wait().output
    }

    /// The log's records of `type`, one line each.
    public func records(ofType type: String) -> [String] {
        search(ofType: type).split(separator: "\n").filter { $0.hasPrefix("type=\(type) ") }.map(String.init)
    }

    public func stop() {
        _ = Child(["/usr/sbin/auditctl", "-D"]).wait()
        kill(daemon.pid, SIGTERM)
        let r = daemon.wait(timeout: .seconds(20))
        XCTAssertFalse(r.hung, "auditd stops on SIGTERM")
        _ = Child(["/usr/sbin/auditctl", "-e", enabledBefore]).wait()
        folder.remove()
    }
}
