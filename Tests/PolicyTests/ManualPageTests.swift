import Foundation
@testable import Policy
import XCTest

/// fanfilter.policy(5) is never behind the language: every setting the parser
/// takes, every attribute and decision, and the shipped default policy's rules.
final class PolicyManualPageTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    func testThePageNamesEverySettingAttributeAndDecision() throws {
        let text = try String(contentsOfFile: Self.root + "/man/fanfilter.policy.5", encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\e", with: "\\")
        let boldLines = text.split(separator: "\n").filter { $0.hasPrefix(".B") }
        let bold = Set(boldLines.compactMap { $0.split(separator: " ").dropFirst().first }
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\",")) })
        // The words of each entry's term (the line after a .TP), not words of prose.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let terms = zip(lines, lines.dropFirst()).filter { $0.0 == ".TP" && $0.1.hasPrefix(".B") }.map(\.1)
        let boldWords = Set(terms.flatMap { $0.split(whereSeparator: { " \",=".contains($0) }).dropFirst().map(String.init) })
        XCTAssertEqual(PolicyParser.settingNames.filter { !bold.contains($0) }, [], "settings without an entry")
        XCTAssertEqual(Attribute.allCases.map(\.name).filter { !boldWords.contains($0) }, [], "attributes without a term of their own")
        XCTAssertEqual(RuleDecision.allCases.map(\.rawValue).filter { !boldWords.contains($0) }, [], "decisions without a term of their own")
        let shipped = try String(contentsOfFile: Self.root + "/systemd/fanfilter.policy", encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && ($0.hasPrefix("%") || $0.hasPrefix("watch") || $0.contains(" : ")) }
        XCTAssertFalse(shipped.isEmpty)
        XCTAssertEqual(shipped.filter { !text.contains(String($0)) }, [], "the EXAMPLE section shows the shipped rules as they are")
    }
}
