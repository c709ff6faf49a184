import PortProtocol
@testable import PortServer
import XCTest

/// An observer's queue without a socket: what it loses, and where the count of it sits.
final class ObserverFeedTests: XCTestCase {
    func record(_ verdict: WireVerdict = .allow) -> DecisionRecord {
        DecisionRecord(access: .open, pid: 1, verdict: verdict, source: .rule, rule: 1, path: Array("/f".utf8), client: [])
    }

    /// The lost count comes on the first entry after the gap, so a client
    /// finds it from the sequence numbers. Before, it came on the oldest
    /// entry still queued, thousands of entries before the gap.
    func testTheLostCountSitsAtTheGapInTheSequence() {
        let feed = ObserverFeed()
        feed.add(1, deniedOnly: false)
        for _ in 0..<(ObserverFeed.capacity + 3) { feed.publish(record()) }
        var previous: UInt64 = 0
        for _ in 0..<ObserverFeed.capacity {
            let entry = feed.next(for: 1)!
            XCTAssertEqual(entry.lost, 0)
            XCTAssertEqual(entry.sequence, previous + 1)
            previous = entry.sequence
        }
        feed.publish(record())
        let after = feed.next(for: 1)!
        XCTAssertEqual(after.lost, 3)
        XCTAssertEqual(after.sequence - previous - 1, UInt64(after.lost))
    }

    /// An observer of denials only: the sequence also counts what it was not
    /// sent, and lost counts only the denials it lost.
    func testADeniedOnlyObserverIsToldOnlyOfLostDenials() {
        let feed = ObserverFeed()
        feed.add(1, deniedOnly: true)
        feed.publish(record(.allow))
        feed.publish(record(.deny))
        let first = feed.next(for: 1)!
        XCTAssertEqual(first.sequence, 2)
        XCTAssertEqual(first.lost, 0)
        feed.remove(1)
        XCTAssertNil(feed.next(for: 1))
    }
}
