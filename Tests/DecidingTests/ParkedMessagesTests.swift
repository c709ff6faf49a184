@testable import Deciding
import XCTest

/// `ParkedMessages` without root: whichever of the worker and the hasher
/// comes first, a parked message is handed back once, after its worker has
/// parked it, and its worker's get is primed again once.
final class ParkedMessagesTests: XCTestCase {
    func testTheHasherAnsweringFirstHandsTheMessageBackWhenTheWorkerParksIt() {
        let parked = ParkedMessages()
        XCTAssertFalse(parked.answer(7, .sha256, Array("ab".utf8)), "not parked yet: the worker hands it back")
        let (prime, resume) = parked.park(7)
        XCTAssertTrue(prime)
        XCTAssertTrue(resume)
        XCTAssertEqual(parked.digest(of: 7, .sha256), .some(Array("ab".utf8)))
        XCTAssertTrue(parked.decided(7), "its get was primed again")
        XCTAssertTrue(parked.digest(of: 7, .sha256) == .none, "forgotten once decided")
    }

    func testTheWorkerParkingFirstIsHandedBackByTheHasherAndPrimesOnce() {
        let parked = ParkedMessages()
        XCTAssertEqual(parked.park(9).prime, true)
        XCTAssertEqual(parked.park(9).resume, false, "still waiting")
        XCTAssertTrue(parked.answer(9, .sha256, nil), "parked: the hasher hands it back")
        XCTAssertEqual(parked.digest(of: 9, .sha256), .some(nil), "a file that could not be hashed: known to have no digest")
        let again = parked.park(9)  // a second digest (trust's MD5), parked again
        XCTAssertFalse(again.prime, "its get was primed again the first time")
        XCTAssertFalse(again.resume)
        XCTAssertTrue(parked.answer(9, .md5, Array("cd".utf8)))
        XCTAssertTrue(parked.decided(9))
        XCTAssertFalse(parked.decided(10), "never parked: its worker primes as usual")
    }
}
