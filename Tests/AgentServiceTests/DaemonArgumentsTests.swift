@testable import AgentService
import XCTest

final class DaemonArgumentsTests: XCTestCase {
    func testNoArgumentsRunsTheBuiltInPolicyWithTheLogTargetChosenByStderr() {
        XCTAssertEqual(DaemonArguments.parse([]), .run(policy: nil, logTarget: .auto))
    }

    func testTheUnitsCommandLine() {
        XCTAssertEqual(DaemonArguments.parse(["--policy", "/etc/fanfilter/policy", "--log-target", "journal"]),
                       .run(policy: "/etc/fanfilter/policy", logTarget: .journal))
        XCTAssertEqual(DaemonArguments.parse(["--policy=/p", "--log-target=stderr"]), .run(policy: "/p", logTarget: .stderr))
    }

    func testEveryArgumentNotUnderstoodIsNamed() {
        XCTAssertEqual(DaemonArguments.parse(["--polcy", "/p"]), .usageError("unknown option --polcy"))
        XCTAssertEqual(DaemonArguments.parse(["run"]), .usageError("unexpected argument run"))
        XCTAssertEqual(DaemonArguments.parse(["--policy"]), .usageError("--policy needs a value"))
        XCTAssertEqual(DaemonArguments.parse(["--policy="]), .usageError("--policy needs a file name"))
        XCTAssertEqual(DaemonArguments.parse(["--log-target", "syslog"]),
                       .usageError("--log-target syslog: expected journal, stderr or auto"))
    }

    func testHelpAndVersionWinWhereverTheyStand() {
        XCTAssertEqual(DaemonArguments.parse(["--policy", "/p", "--help"]), .help)
        XCTAssertEqual(DaemonArguments.parse(["--version", "--bogus"]), .version)
    }

    func testHelpNamesEveryOptionAndFitsEightyColumns() {
        let help = DaemonArguments.helpText
        for option in ["--policy <file>", "--log-target <journal|stderr|auto>", "--version", "--help", "SIGHUP", "Exit status"] {
            XCTAssertTrue(help.contains(option), option)
        }
        for line in help.split(separator: "\n") where !line.contains("<journal|stderr|auto>]") {
            XCTAssertLessThanOrEqual(line.count, 80, String(line))
        }
    }

    func testWrapKeepsTheIndentOfItsLine() {
        XCTAssertEqual(DaemonArguments.wrap("    aaa bbb ccc", width: 11), "    aaa bbb\n    ccc")
        XCTAssertEqual(DaemonArguments.wrap("", width: 10), "")
    }
}
