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

public func quietLogger() -> Logger {
    Logger(label: "fanfilter-test") { _ in SwiftLogNoOpLogHandler() }
}

/// Parses a policy whose text may name the sandbox as `$ROOT`.
public func policy(_ text: String, in sandbox: Sandbox) throws -> Policy {
    try Policy.parse(Array(text.replacingOccurrences(of: "$ROOT", with: sandbox.root).utf8), file: "test.policy")
}
