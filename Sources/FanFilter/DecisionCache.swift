import Dispatch
import Glibc
import Policy
import Synchronization

/// The agent's own decision cache (`cache = kernel` and `cache = user`): a
/// decision kept under the identity of the object (device, inode, size,
/// mtime, ctime, path) and of the subject (the facts read by the rules that
/// could match that path), so a repeat costs no policy evaluation and no
/// hash. Bounded by `capacity` in two generations: a hit in the old one moves
/// the entry to the young one, and when the young one is full the old one is
/// dropped, which comes close to least-recently-used at O(1). Concurrent
/// misses on one key wait for a single evaluation. There is one cache per
/// policy in force, so a reload starts with an empty one.
final class DecisionCache: Sendable {
    struct Key: Hashable, Sendable {
        var access: Access
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtime: Int64
        var mtimeNanoseconds: Int64
        var ctime: Int64
        var ctimeNanoseconds: Int64
        var path: [UInt8]?
        var subject: SubjectFacts

        /// The pid is part of the key only when a rule that could match reads it.
        init(_ access: Access, _ st: stat, path: [UInt8]?, subject: SubjectFacts, needs: Facts) {
            self.access = access
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            mtime = Int64(st.st_mtim.tv_sec)
            mtimeNanoseconds = Int64(st.st_mtim.tv_nsec)
            ctime = Int64(st.st_ctim.tv_sec)
            ctimeNanoseconds = Int64(st.st_ctim.tv_nsec)
            self.path = path
            self.subject = subject
            if !needs.contains(.pid) { self.subject.pid = 0 }
        }
    }

    /// A decision as cached: its verdict, the index of the rule that made it
    /// (-1: the default), and whether the kernel may cache it.
    struct Entry: Sendable, Equatable {
        var verdict: Verdict
        var rule: Int32
        var cacheable: Bool

        init(_ decision: Decision, cacheable: Bool) {
            verdict = decision.verdict
            rule = Int32(decision.rule.map { $0.number - 1 } ?? -1)
            self.cacheable = cacheable
        }

        func decision(in policy: Policy) -> Decision {
            Decision(verdict: verdict, rule: rule >= 0 ? policy.rules[Int(rule)] : nil)
        }
    }

    /// One evaluation in progress, which the other misses on its key wait for.
    final class Flight: Sendable {
        private let result = Mutex<Entry?>(nil)
        private let done = DispatchSemaphore(value: 0)

        /// The evaluation's entry, or nil when it did not come by `deadline`.
        func wait(until deadline: DispatchTime) -> Entry? {
            guard done.wait(timeout: deadline) == .success else { return nil }
            done.signal()  // the next waiter's turn
            return result.withLock { $0 }
        }

        fileprivate func fulfill(_ entry: Entry) {
            result.withLock { $0 = entry }
            done.signal()
        }
    }

    enum Lookup {
        case hit(Entry)
        /// Another worker is evaluating this key.
        case wait(Flight)
        /// Evaluate, then `finish` with this flight.
        case miss(Flight)
    }

    private struct State {
        var young: [Key: Entry] = [:]
        var old: [Key: Entry] = [:]
        var flights: [Key: Flight] = [:]
    }

    let capacity: Int
    private let state = Mutex(State())
    private let counters: Counters?

    init(capacity: Int, counters: Counters?) {
        self.capacity = max(capacity, 2)
        self.counters = counters
    }

    func lookUp(_ key: Key) -> Lookup {
        let (found, dropped) = state.withLock { s -> (Lookup, [Key: Entry]) in
            if let entry = s.young[key] { return (.hit(entry), [:]) }
            if let entry = s.old.removeValue(forKey: key) { return (.hit(entry), insert(key, entry, into: &s)) }
            if let flight = s.flights[key] { return (.wait(flight), [:]) }
            let flight = Flight()
            s.flights[key] = flight
            return (.miss(flight), [:])
        }
        // A dropped generation is freed here, after the lock is let go.
        withExtendedLifetime(dropped) {
            if case .miss = found { counters?.increment(.cacheMisses) } else { counters?.increment(.cacheHits) }
        }
        return found
    }

    /// Keeps the evaluation of a miss, and hands it to the workers waiting on it.
    func finish(_ key: Key, _ flight: Flight, _ entry: Entry) {
        let dropped = state.withLock { s in
            s.flights[key] = nil
            return insert(key, entry, into: &s)
        }
        withExtendedLifetime(dropped) { flight.fulfill(entry) }
    }

    /// How many decisions are kept.
    var count: Int { state.withLock { $0.young.count + $0.old.count } }

    /// Returns the generation dropped to make room, if one was.
    private func insert(_ key: Key, _ entry: Entry, into s: inout State) -> [Key: Entry] {
        var dropped: [Key: Entry] = [:]
        if s.young.count >= capacity / 2 {
            dropped = s.old
            s.old = s.young
            s.young = [:]
        }
        s.young[key] = entry
        return dropped
    }
}
