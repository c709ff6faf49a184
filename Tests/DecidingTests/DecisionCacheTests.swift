@testable import AgentCounts
@testable import Deciding
import Dispatch
import Glibc
import Policy
import Synchronization
import TestSupport
import XCTest

/// The agent's own decision cache, without the kernel.
final class DecisionCacheTests: XCTestCase {
    private func key(_ n: Int, uid: UInt32 = 0) -> DecisionCache.Key {
        var st = stat()
        st.st_ino = UInt(n)
        return DecisionCache.Key(.open, st, path: Array("/f\(n)".utf8), subject: SubjectFacts(pid: 42, uid: uid), needs: .uid)
    }

    private let allow = DecisionCache.Entry(Decision(verdict: .allow, rule: nil), cacheable: false)

    func testAMissIsEvaluatedOnceAndThenHits() {
        let counters = Counters()
        let cache = DecisionCache(capacity: 8, counters: counters)
        guard case .miss(let flight) = cache.lookUp(key(1)) else { return XCTFail("expected a miss") }
        cache.finish(key(1), flight, allow)
        guard case .hit(let entry) = cache.lookUp(key(1)) else { return XCTFail("expected a hit") }
        XCTAssertEqual(entry, allow)
        guard case .miss = cache.lookUp(key(1, uid: 1000)) else { return XCTFail("another subject is another key") }
        XCTAssertEqual(counters[.cacheHits], 1)
        XCTAssertEqual(counters[.cacheMisses], 2)
    }

    func testAnEvaluationNotKeptIsSharedButNotCached() {
        let cache = DecisionCache(capacity: 8, counters: nil)
        guard case .miss(let flight) = cache.lookUp(key(1)) else { return XCTFail("expected a miss") }
        guard case .wait(let other) = cache.lookUp(key(1)) else { return XCTFail("expected a wait") }
        cache.finish(key(1), flight, allow, keep: false)
        XCTAssertEqual(other.wait(until: .now() + 5), allow)
        guard case .miss = cache.lookUp(key(1)) else { return XCTFail("an ask is asked again") }
    }

    func testThePidIsPartOfTheKeyOnlyWhenARuleReadsIt() {
        var st = stat()
        st.st_ino = 7
        let a = DecisionCache.Key(.open, st, path: nil, subject: SubjectFacts(pid: 1, uid: 0), needs: .uid)
        let b = DecisionCache.Key(.open, st, path: nil, subject: SubjectFacts(pid: 2, uid: 0), needs: .uid)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(DecisionCache.Key(.open, st, path: nil, subject: SubjectFacts(pid: 1), needs: .pid),
                          DecisionCache.Key(.open, st, path: nil, subject: SubjectFacts(pid: 2), needs: .pid))
    }

    func testConcurrentMissesWaitForOneEvaluation() {
        let cache = DecisionCache(capacity: 8, counters: nil)
        guard case .miss(let flight) = cache.lookUp(key(1)) else { return XCTFail("expected a miss") }
        let first = key(1)
        let waited = Mutex<[DecisionCache.Entry?]>([])
        let group = DispatchGroup()
        let lookedUp = DispatchSemaphore(value: 0)
        for _ in 0..<3 {
            DispatchQueue.global().async(group: group) {
                let found = cache.lookUp(first)
                lookedUp.signal()
                guard case .wait(let other) = found else { return }
                let entry = other.wait(until: .now() + 5)
                waited.withLock { $0.append(entry) }
            }
        }
        for _ in 0..<3 { XCTAssertEqual(lookedUp.wait(timeout: .now() + 10), .success) }
        cache.finish(key(1), flight, allow)
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(waited.withLock { $0 }, [allow, allow, allow])
    }

    func testAWaitIsBounded() {
        let cache = DecisionCache(capacity: 8, counters: nil)
        guard case .miss = cache.lookUp(key(1)) else { return XCTFail("expected a miss") }
        guard case .wait(let other) = cache.lookUp(key(1)) else { return XCTFail("expected a wait") }
        XCTAssertNil(other.wait(until: .now() + 0.05), "no evaluation came: the waiter decides itself")
    }

    func testTheCacheIsBounded() {
        let cache = DecisionCache(capacity: 100, counters: nil)
        for n in 0..<1000 {
            guard case .miss(let flight) = cache.lookUp(key(n)) else { return XCTFail("expected a miss") }
            cache.finish(key(n), flight, allow)
            XCTAssertLessThanOrEqual(cache.count, 100)
        }
        guard case .hit = cache.lookUp(key(999)) else { return XCTFail("the newest is kept") }
        guard case .miss = cache.lookUp(key(0)) else { return XCTFail("the oldest is gone") }
    }
}
