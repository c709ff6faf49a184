@testable import AgentCounts
@testable import Fanotify
import TestSupport
import XCTest

/// How `KernelCache` bounds a storm of full drops, on a clock the test moves
/// (no root, no sleep): a rename storm of folders costs a drop or two, not one a rename.
final class KernelCacheStormTests: XCTestCase {
    func testAStormOfFullDropsCostsTwoDropsAndThenOneASecondAtMost() throws {
        let kernel = ScriptedKernel()
        let group = try kernel.groups(true)
        let clock = ManualClock()
        let cache = KernelCache(counters: Counters(), clock: clock)
        cache.changedEverywhere(group)
        XCTAssertEqual(kernel.flushes, 1, "one drop: no storm")
        for _ in 0..<1000 {
            clock.advance(by: .milliseconds(1))
            cache.changedEverywhere(group)
        }
        XCTAssertEqual(kernel.flushes, 2, "the second drop within a second starts a storm; no mark is placed during it, none is dropped")
        clock.advance(by: .milliseconds(999))
        cache.changedEverywhere(group)
        XCTAssertEqual(kernel.flushes, 2, "the storm goes on while drops keep coming")
        clock.advance(by: .seconds(2))
        cache.changedEverywhere(group)
        XCTAssertEqual(kernel.flushes, 3, "after a quiet second, a drop again")
        let epoch = cache.current
        cache.flush(group)
        XCTAssertEqual(kernel.flushes, 4, "a reload always drops every mark")
        XCTAssertGreaterThan(cache.current, epoch)
    }
}
