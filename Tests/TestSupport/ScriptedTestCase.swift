import Clocks
import FanFilter
import Glibc
import Logging
import Policy
import XCTest

/// A test of the agent on the scripted kernel: no root, no marks on any
/// filesystem. Files live in a plain folder (on /dev/shm), named `$ROOT` in
/// policy texts as in the kernel tests; events are queued by the test and
/// each agent is checked, when it stops, for exactly one answer per event.
open class ScriptedTestCase: XCTestCase {
    public var sandbox: Sandbox!
    public var kernel: ScriptedKernel!

    override open func setUpWithError() throws {
        sandbox = try Sandbox(unmountedIn: "/dev/shm")
        kernel = ScriptedKernel()
    }

    override open func tearDown() { sandbox?.remove() }

    /// Starts an agent on the scripted kernel, on a policy whose text names the folder as `$ROOT`.
    public func startAgent(_ text: String, logger: Logger = quietLogger(), clock: any MonotonicClock = SystemClock(),
                           decide: (@Sendable (AccessRequest) -> Decision)? = nil) throws -> Agent {
        let agent = try Agent(policy: try policy(text, in: sandbox), logger: logger, decide: decide,
                              kernel: kernel.groups, portClock: clock)
        agent.start()
        return agent
    }

    /// The answers to events of `paths`, one after the other as one process opens
    /// them (process `pid`; the next is queued once the last is settled).
    public func answers(_ paths: [[UInt8]], _ access: Access = .open, pid: pid_t = 1,
                        file: StaticString = #filePath, line: UInt = #line) -> [Verdict?] {
        paths.map { path in
            let index = kernel.access(path, access, pid: pid)
            XCTAssertTrue(eventually { kernel.event(index).settled }, "\(printable(path)) settled", file: file, line: line)
            return kernel.events[index].answer
        }
    }

    /// Stops the agent and checks, as the kernel saw it, that each event got exactly one answer.
    public func stop(_ agent: Agent, file: StaticString = #filePath, line: UInt = #line) {
        agent.stop()
        XCTAssertEqual(kernel.violations, [], file: file, line: line)
        XCTAssertEqual(agent.counters[.responses], agent.counters[.events], "one answer per event read", file: file, line: line)
        XCTAssertEqual(agent.eventsInFlight, 0, file: file, line: line)
    }
}
