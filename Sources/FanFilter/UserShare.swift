import Synchronization

/// Each user's share of a busy queue: how many events of each user (real
/// uid) the event reader counted, which are those it read while the queue
/// was at least half full, and that are still waiting or under decision.
///
/// Guarantee: `admit` counts an event only while its user has fewer than
/// `bound` counted, and each counted event is released once, when it is
/// answered (`Settlement`), so no user ever has more than `bound` counted
/// events. One user's flood of opens thus fills at most half the queue plus
/// `bound`, and the others' events still find room and are decided.
final class UserShare: Sendable {
    private let counts = Mutex<[UInt32: Int]>([:])

    /// Counts one more event of `uid`; false, counting nothing, when it has `bound` already.
    func admit(_ uid: UInt32, bound: Int) -> Bool {
        counts.withLock { counts in
            let n = counts[uid, default: 0]
            guard n < bound else { return false }
            counts[uid] = n + 1
            return true
        }
    }

    /// One counted event of `uid` was answered.
    func release(_ uid: UInt32) {
        counts.withLock { counts in
            guard let n = counts[uid] else { return }
            counts[uid] = n > 1 ? n - 1 : nil
        }
    }

    /// How many counted events `uid` has now.
    func count(of uid: UInt32) -> Int { counts.withLock { $0[uid, default: 0] } }
}
