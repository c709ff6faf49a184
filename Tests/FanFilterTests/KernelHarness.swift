import Dispatch
import Foundation
import FanFilter
import Glibc
import Logging
import Policy
import Synchronization
import XCTest

/// A private tmpfs for one test: the only filesystem a kernel test marks.
/// Mounted on a fresh directory and detached again by `remove()`; `make test`
/// also runs the tests in a mount namespace of their own (unshare -m).
final class Sandbox {
    let root: String

    init() throws {
        guard getuid() == 0 else { throw XCTSkip("kernel tests need root: run `sudo make test`") }
        var template = Array("/tmp/fanfilter-test.XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        root = String(cString: dir)
        guard mount("tmpfs", root, "tmpfs", 0, "size=256m,mode=0755") == 0 else {
            let e = errno
            rmdir(root)
            throw XCTSkip("cannot mount a tmpfs (errno \(e)): kernel tests need root")
        }
    }

    func remove() {
        umount2(root, Int32(MNT_DETACH))
        rmdir(root)
    }

    /// The absolute path of `relative` inside the sandbox, as bytes.
    func path(_ relative: [UInt8]) -> [UInt8] { Array(root.utf8) + [UInt8(ascii: "/")] + relative }
    func path(_ relative: String) -> [UInt8] { path(Array(relative.utf8)) }

    /// Creates a file (and its parent directories) with `contents` and `mode`.
    @discardableResult
    func file(_ relative: [UInt8], contents: [UInt8] = Array("data\n".utf8), mode: mode_t = 0o644) -> [UInt8] {
        let full = path(relative)
        var end = Array(root.utf8).count + 1
        while let slash = full[end...].firstIndex(of: UInt8(ascii: "/")) {
            _ = mkdir(cString(full[..<slash]), 0o755)
            end = slash + 1
        }
        let fd = open(cString(full), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        precondition(fd >= 0, "cannot create \(printable(full)): errno \(errno)")
        _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        close(fd)
        return full
    }

    @discardableResult
    func file(_ relative: String, contents: [UInt8] = Array("data\n".utf8), mode: mode_t = 0o644) -> [UInt8] {
        file(Array(relative.utf8), contents: contents, mode: mode)
    }

    /// Copies an executable (e.g. /bin/true) into the sandbox.
    @discardableResult
    func executable(_ relative: String, from source: String) -> [UInt8] {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        precondition(fd >= 0)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while case let n = chunk.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }), n > 0 {
            bytes += chunk[..<n]
        }
        return file(relative, contents: bytes, mode: 0o755)
    }
}

func cString<C: Collection>(_ bytes: C) -> [CChar] where C.Element == UInt8 {
    bytes.map { CChar(bitPattern: $0) } + [0]
}

/// Where the test bundle's sibling products (fanfilter, the opener) are:
/// the folder of .build/debug/fanfilterPackageTests.xctest.
let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    return (exe as NSString).deletingLastPathComponent + "/"
}()

let openerPath = productsDirectory + "fanfilter-test-opener"
let fanfilterPath = productsDirectory + "fanfilter"

/// A child process with its stdout in a pipe. Every wait is bounded: a child
/// still running at its deadline is killed and reported as hung.
final class Child {
    let pid: pid_t
    private let stdoutFD: Int32
    let started = ContinuousClock.now

    /// Starts `argv`; stdout (and stderr too, with `mergeStderr`) goes to a pipe read by `wait`.
    init(_ argv: [[UInt8]], mergeStderr: Bool = false) {
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

    convenience init(_ argv: [String], mergeStderr: Bool = false) {
        self.init(argv.map { Array($0.utf8) }, mergeStderr: mergeStderr)
    }

    struct Result {
        var output: String
        /// Exit status, or 128 + signal.
        var status: Int32
        var hung: Bool
        var elapsed: Duration
        var lines: [Substring] { output.split(separator: "\n") }
    }

    /// Waits at most `timeout` for the child to exit.
    func wait(timeout: Duration = .seconds(30)) -> Result {
        let deadline = started + timeout
        var output: [UInt8] = []
        var hung = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { hung = true; break }
            var p = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 1000))
            if poll(&p, 1, ms) <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            output += buffer[..<n]
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

/// The prefix that runs a child as uid and gid 1000.
let asUser1000 = ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]

/// Opens each path once from a child process: "ok" or an errno name per path.
func openFromChild(_ paths: [[UInt8]], prefix: [String] = [], timeout: Duration = .seconds(30)) -> [String] {
    let r = Child(prefix.map { Array($0.utf8) } + [Array(openerPath.utf8), Array("open".utf8)] + paths).wait(timeout: timeout)
    XCTAssertFalse(r.hung, "an opener hung")
    return r.lines.map(String.init)
}

func quietLogger() -> Logger {
    Logger(label: "fanfilter-test") { _ in SwiftLogNoOpLogHandler() }
}

/// Parses a policy whose text may name the sandbox as `$ROOT`.
func policy(_ text: String, in sandbox: Sandbox) throws -> Policy {
    try Policy.parse(Array(text.replacingOccurrences(of: "$ROOT", with: sandbox.root).utf8), file: "test.policy")
}

/// A test on the real kernel: a private tmpfs per test, and an agent checked
/// for exactly one answer per event when it stops.
class KernelTestCase: XCTestCase {
    var sandbox: Sandbox!

    override func setUpWithError() throws { sandbox = try Sandbox() }
    override func tearDown() { sandbox?.remove() }

    /// Starts an agent on a policy whose text names the sandbox as `$ROOT`.
    func startAgent(_ text: String, logger: Logger = quietLogger(),
                    decide: (@Sendable (AccessRequest) -> Decision)? = nil) throws -> Agent {
        let agent = try Agent(policy: try policy(text, in: sandbox), logger: logger, decide: decide)
        agent.start()
        return agent
    }

    /// Starts an agent whose every decision takes `stall` microseconds (then allows).
    func startStalledAgent(_ text: String, stall: useconds_t, logger: Logger = quietLogger()) throws -> Agent {
        try startAgent(text, logger: logger) { request in
            usleep(stall)
            return Policy().decide(request)
        }
    }

    /// Stops the agent and checks that every event read was answered exactly once.
    func stop(_ agent: Agent, file: StaticString = #filePath, line: UInt = #line) {
        agent.stop()
        XCTAssertEqual(agent.counters[.responses], agent.counters[.events], "one answer per event", file: file, line: line)
        XCTAssertEqual(agent.unansweredEvents, 0, "no event left unanswered", file: file, line: line)
        XCTAssertEqual(agent.counters[.responseErrors], 0, "the kernel took every response", file: file, line: line)
    }
}

/// A logger that keeps every entry (message and metadata), for tests that read what the agent logged.
final class LogCapture: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let entries = Mutex<[Entry]>([])

    var logger: Logger {
        Logger(label: "fanfilter-test") { _ in Handler(capture: self) }
    }

    var all: [Entry] { entries.withLock { $0 } }

    /// Waits (bounded) until an entry satisfies `match`, and returns it.
    func wait(for match: (Entry) -> Bool, timeout: Duration = .seconds(5)) -> Entry? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let e = all.first(where: match) { return e }
            usleep(5_000)
        }
        return nil
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?,
                 source: String, file: String, function: String, line: UInt) {
            let entry = Entry(level: level, message: message.description, metadata: metadata ?? [:])
            capture.entries.withLock { $0.append(entry) }
        }
    }
}
