import Dispatch
import Foundation
import FanFilter
import Glibc
import Logging
import Policy
import PortServer
import Synchronization
import XCTest

/// A test on the real kernel: a private tmpfs per test, and an agent checked
/// for exactly one answer per event when it stops.
open class KernelTestCase: XCTestCase {
    public var sandbox: Sandbox!

    /// Whether this case's tests need the kernel to report renames on their
    /// sandbox: the agent places ignore marks only where it follows renames,
    /// and Debian 11's 5.10 refuses the rename watcher's mark on tmpfs. Such a
    /// case gets an ext4 image there (`Sandbox(filesystem: .ext4Image)`).
    open var sandboxNeedsRenameReports: Bool { false }

    override open func setUpWithError() throws {
        sandbox = try Sandbox()
        guard sandboxNeedsRenameReports, !renamesAreReported(onFilesystemOf: sandbox.root) else { return }
        sandbox.remove()
        sandbox = try Sandbox(filesystem: .ext4Image)
        XCTAssertTrue(renamesAreReported(onFilesystemOf: sandbox.root), "ext4 takes the rename watcher's mark")
    }
    override open func tearDown() { sandbox?.remove() }

    /// Starts an agent on a policy whose text names the sandbox as `$ROOT`.
    /// With `clients`, `ask` rules go to that socket port's deciders.
    public func startAgent(_ text: String, logger: Logger = quietLogger(),
                    decide: (@Sendable (AccessRequest) -> Decision)? = nil, clients: PortServer? = nil) throws -> Agent {
        let agent = try Agent(policy: try policy(text, in: sandbox), logger: logger, decide: decide, clients: clients)
        agent.start()
        return agent
    }

    /// Stops the agent and checks that every event read was answered exactly once.
    public func stop(_ agent: Agent, file: StaticString = #filePath, line: UInt = #line) {
        agent.stop()
        XCTAssertEqual(agent.counters[.responses], agent.counters[.events], "one answer per event", file: file, line: line)
        XCTAssertEqual(agent.eventsInFlight, 0, "no event left unanswered", file: file, line: line)
        XCTAssertEqual(agent.counters[.responseErrors], 0, "the kernel took every response", file: file, line: line)
    }
}

/// A logger that drops what it is given, or, with FANFILTER_TEST_LOG=1 in the
/// environment, writes it to standard error (to see why a test failed in a guest).
public func quietLogger() -> Logger {
    guard let raw = getenv("FANFILTER_TEST_LOG"), String(cString: raw) == "1" else {
        return Logger(label: "fanfilter-test") { _ in SwiftLogNoOpLogHandler() }
    }
    var logger = Logger(label: "fanfilter-test") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .debug
    return logger
}

/// Parses a policy whose text may name the sandbox as `$ROOT`. A policy that
/// sets no `reply_timeout` gets 1.25 s per `testTimeScale` in a guest: there
/// the first run of a code path pages the test binary in over 9p (on 5.10 a
/// first hash took over a second), and such a test asserts the policy's
/// answer, not `on_timeout`'s (a test of timeouts sets its own).
public func policy(_ text: String, in sandbox: Sandbox) throws -> Policy {
    var text = text.replacingOccurrences(of: "$ROOT", with: sandbox.root)
    if testTimeScale > 1, !text.split(separator: "\n").contains(where: { $0.hasPrefix("reply_timeout") }) {
        text += "\nreply_timeout = \(1250 * testTimeScale)ms\n"  // last, so the rules keep their line numbers
    }
    return try Policy.parse(Array(text.utf8), file: "test.policy")
}
