@testable import Policy
import XCTest

/// `glob:` patterns on their own: what each wildcard matches, the literal
/// prefix the rule index anchors on, errors with their offset, and patterns
/// built to be slow.
final class GlobTests: XCTestCase {
    func testGlobs() throws {
        func g(_ s: String) throws -> Glob { try Glob(Array(s.utf8)) }
        XCTAssertTrue(try g("/a/*/c").matches(Array("/a/b/c".utf8)))
        XCTAssertFalse(try g("/a/*/c").matches(Array("/a/b/x/c".utf8)), "* stays within a component")
        XCTAssertTrue(try g("/a/**/c").matches(Array("/a/b/x/c".utf8)))
        XCTAssertTrue(try g("/a/**").matches(Array("/a/b/x/c".utf8)))
        XCTAssertTrue(try g("/a/[!x]").matches(Array("/a/y".utf8)))
        XCTAssertFalse(try g("/a/[!x]").matches(Array("/a/x".utf8)))
        XCTAssertTrue(try g("/a/[]]").matches(Array("/a/]".utf8)))
        XCTAssertTrue(try g("*.sh").matches(Array("run.sh".utf8)))
        XCTAssertThrowsError(try g("/a/[bc"))
        XCTAssertThrowsError(try g("/a/[z-a]"))
    }

    func testTheLiteralPrefixStopsAtTheFirstWildcard() throws {
        XCTAssertEqual(try Glob(Array("/srv/a/*.sh".utf8)).literalPrefix, Array("/srv/a/".utf8))
        XCTAssertEqual(try Glob(Array("/srv/a?".utf8)).literalPrefix, Array("/srv/a".utf8))
        XCTAssertEqual(try Glob(Array("**".utf8)).literalPrefix, [])
    }

    func testErrorsSayWhere() {
        XCTAssertThrowsError(try Glob(Array("/a/[bc".utf8))) { XCTAssertEqual(($0 as? GlobError)?.offset, 3) }
    }

    func testAdversarialPatternsAreDecidedInBoundedTime() throws {
        // Backtracking without memory would take exponential time on these.
        let text = Array(String(repeating: "a", count: 4000).utf8) + [UInt8(ascii: "b")]
        XCTAssertFalse(try Glob(Array((String(repeating: "*a", count: 40) + "*c").utf8)).matches(text))
        XCTAssertFalse(try Glob(Array((String(repeating: "**a", count: 40) + "**c").utf8)).matches(text))
        XCTAssertTrue(try Glob(Array((String(repeating: "*a", count: 40) + "*b").utf8)).matches(text))
    }
}
