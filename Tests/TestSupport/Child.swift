import Dispatch
import Foundation
import Glibc
import Logging
import Policy
import Synchronization
import XCTest

/// A child process with its stdout in a pipe. Every wait is bounded: a child
/// still running at its deadline is killed and reported as hung.
public final class Child {
    public let pid: pid_t
    private let stdoutFD: Int32
    public let started = ContinuousClock.now
    /// What `waitForOutput` has read so far; `wait` goes on from there.
    private var output: [UInt8] = []

    /// Starts `argv`; stdout (and stderr too, with `mergeStderr`) goes to a pipe read by `wait`.
    public init(_ argv: [[UInt8]], mergeStderr: Bool = false) {
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        if mergeStderr { posix_spawn_file_actions_adddup2(&actions, fds[1], 2) }
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let cArgs = argv.map { cString($0) }
        var pointers: [UnsafeMutablePointer<CChar>?] = cArgs.map { strdup($0) }
        pointers.append(nil)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, pointers[0]!, &actions, nil, pointers, environ)
        precondition(rc == 0, "posix_spawn \(printable(argv[0])) failed: \(rc)")
        for p in pointers { free(p) }
        posix_spawn_file_actions_destroy(&actions)
        close(fds[1])
        self.pid = pid
        stdoutFD = fds[0]
    }

    public convenience init(_ argv: [String], mergeStderr: Bool = false) {
        self.init(argv.map { Array($0.utf8) }, mergeStderr: mergeStderr)
    }

    public struct Result {
        public var output: String
        /// Exit status, or 128 + signal.
        public var status: Int32
        public var hung: Bool
        public var elapsed: Duration
        public var lines: [Substring] { output.split(separator: "\n") }
    }

    /// Reads the child's output until it holds `text` (true), the output
    /// ends, or `timeout` passes (false). The child keeps running.
    public func waitForOutput(containing text: String, timeout: Duration = .seconds(10)) -> Bool {
        let deadline = ContinuousClock.now + timeout.scaledForTests
        let wanted = Array(text.utf8)
        while !contains(wanted) {
            guard readSome(until: deadline) == .read else { return contains(wanted) }
        }
        return true
    }

    private func contains(_ bytes: [UInt8]) -> Bool {
        guard output.count >= bytes.count else { return false }
        return (0...(output.count - bytes.count)).contains { output[$0..<($0 + bytes.count)].elementsEqual(bytes) }
    }

    private enum ReadResult { case read, ended, timedOut }

    /// Reads what the pipe has, waiting for it until `deadline`.
    private func readSome(until deadline: ContinuousClock.Instant) -> ReadResult {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return .timedOut }
            var p = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 1000))
            if poll(&p, 1, ms) <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress, $0.count) }
            if n <= 0 { return .ended }
            output += buffer[..<n]
            return .read
        }
    }

    /// Waits at most `timeout` (from the start) for the child to exit.
    public func wait(timeout: Duration = .seconds(30)) -> Result {
        let deadline = started + timeout.scaledForTests
        var hung = false
        loop: while true {
            switch readSome(until: deadline) {
            case .read: continue
            case .ended: break loop
            case .timedOut: hung = true; break loop
            }
        }
        close(stdoutFD)
        if hung { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(output: String(decoding: output, as: UTF8.self), status: code, hung: hung,
                      elapsed: ContinuousClock.now - started)
    }
}
