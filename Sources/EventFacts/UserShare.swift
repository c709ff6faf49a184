import Synchronization

/// Each user's share of a busy queue (the events waiting for a decision,
/// the files waiting to be hashed): how many of its items each user (real
/// uid) has there among those counted, which are the ones added while the
/// queue was at least half full, and not yet done with.
///
/// Guarantee: `admit` counts an item only while its user has fewer than
/// `bound` counted, and its owner releases each counted item once, when it
/// is done (`Settlement` when an event is answered, `BackgroundHasher` when a
/// file is hashed), so no user ever has more than `bound` counted. One
/// user's flood thus fills at most half the queue plus `bound`, and the
/// others' items still find room.
package final class UserShare: Sendable {
    private let counts = Mutex<[UInt32: Int]>([:])

    package init() {}

    /// Counts one more event of `uid`; false, counting nothing, when it has `bound` already.
    package func admit(_ uid: UInt32, bound: Int) -> Bool {
        counts.withLock { counts in
            let n = counts[uid, default: 0]
            guard n < bound else { return false }
            counts[uid] = n + 1
            return true
        }
    }

    /// One counted event of `uid` was answered.
    package func release(_ uid: UInt32) {
        counts.withLock { counts in
            guard let n = counts[uid] else { return }
            counts[uid] = n > 1 ? n - 1 : nil
        }
    }

    /// How many counted events `uid` has now.
    func count(of uid: UInt32) -> Int { counts.withLock { $0[uid, default: 0] } }
}
