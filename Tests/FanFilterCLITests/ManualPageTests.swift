import Foundation
import Glibc
import PortProtocol
import TestSupport
import XCTest

/// The man pages: rendered without a warning, and never behind the program:
/// every command and option the binary takes is in fanfilter(8).
final class ManualPageTests: XCTestCase {
    static let manFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../man").standardized.path

    /// The page's text with roff's escaped hyphens as plain ones.
    func page(_ name: String) throws -> String {
        try String(contentsOfFile: Self.manFolder + "/" + name, encoding: .utf8).replacingOccurrences(of: "\\-", with: "-")
    }

    func testEachPageRendersWithoutAWarning() throws {
        guard access("/usr/bin/man", X_OK) == 0 else { throw XCTSkip("no man(1) here: apt-get install man-db") }
        for name in ["fanfilter.8", "fanfilter.policy.5", "fanfilter-port.7"] {
            // groff's warnings go to standard error: keep only that.
            let r = Child(["/bin/sh", "-c", "MANWIDTH=80 man --warnings -l \"$1\" 2>&1 >/dev/null", "sh", Self.manFolder + "/" + name]).wait()
            XCTAssertEqual(r.status, 0, name)
            XCTAssertEqual(r.output, "", "\(name): groff's warnings")
        }
    }

    func testFanfilter8NamesEveryCommandAndOption() throws {
        let text = try page("fanfilter.8")
        let r = Child([fanfilterPath, "--experimental-dump-help"]).wait()
        let help = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any])
        var missing: [String] = []
        func walk(_ command: [String: Any], parent: String = "") {
            let own = command["commandName"] as? String ?? ""
            // A subcommand of a subcommand is named with its parent: `fanfilter trust update`.
            let name = parent.isEmpty || parent == "fanfilter" ? own : parent + " " + own
            if name != "fanfilter", own != "help", !text.contains(".B fanfilter \(name)") { missing.append("command \(name)") }
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for n in argument["names"] as? [[String: Any]] ?? [] where n["kind"] as? String == "long" {
                    let option = "--" + (n["name"] as? String ?? "")
                    if !text.contains(option) { missing.append("\(name) \(option)") }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub, parent: name) }
        }
        walk(try XCTUnwrap(help["command"] as? [String: Any]))
        XCTAssertEqual(missing, [], "fanfilter(8) lacks these")
    }

    /// fanfilter-port(7) names every frame type, control command and error
    /// code with the number the protocol gives it.
    func testThePortPageNamesEveryFrameCommandAndErrorByNumber() throws {
        let text = try page("fanfilter-port.7")
        // Each frame type and error code is an entry of its own: `.TP`, then `.B NUMBER NAME`.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let terms = Set(zip(lines, lines.dropFirst()).filter { $0.0 == ".TP" }.map { String($0.1) })
        /// `replyAndPrime` as the page writes it: `reply-and-prime` (and `set mode` in prose).
        func words(_ name: String, _ separator: String) -> String {
            name.reduce(into: "") { out, c in out += c.isUppercase ? separator + c.lowercased() : String(c) }
        }
        for code in PortErrorCode.allCases {
            XCTAssertTrue(terms.contains(".B \(code.rawValue) \(code)"), "error \(code.rawValue) \(code)")
        }
        for type in FrameType.allCases {
            let number = type.rawValue < 0x100 ? "\(type.rawValue)" : "0x\(String(type.rawValue, radix: 16))"
            let name = words("\(type.name)", "-")
            XCTAssertTrue(terms.contains(".B \(number) \(name)"), "frame type \(number) \(name)")
        }
        // The control commands, numbered in the frame's prose: `1 status, 2 reload, 3 set mode`.
        let prose = text.replacingOccurrences(of: "\n", with: " ")
        for command in ControlCommand.allCases {
            XCTAssertTrue(prose.contains("\(command.rawValue) \(words("\(command)", " "))"), "command \(command.rawValue) \(command)")
        }
        XCTAssertTrue(text.contains("\(PortLimits.maxAgentFrame)"), "the agent's frame limit")
        XCTAssertTrue(text.contains("\(PortLimits.maxClientFrame) bytes"), "the client's frame limit")
    }
}
