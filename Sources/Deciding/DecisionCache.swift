import AgentCounts
import Dispatch
import EventFacts
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
package final class DecisionCache: Sendable {
    /// Compact, so that thousands of them stay small: the numbers inline, and
    /// the path, exe and comm in one buffer.
    struct Key: Hashable, Sendable {
        var file: FileIdentity
        var access: Access
        /// Which of pid, ppid, uid, gid, auid and sessionid are known, bit by bit.
        var knownIDs: UInt8 = 0
        var ids: (pid: UInt32, ppid: UInt32, uid: UInt32, gid: UInt32, auid: UInt32, sessionid: UInt32) = (0, 0, 0, 0, 0, 0)
        /// Path, exe and comm, each after its length (two bytes; 0xFFFF when not known).
        var names: [UInt8]

        /// The pid is part of the key only when a rule that could match reads it.
        init(_ access: Access, _ st: stat, path: [UInt8]?, subject s: SubjectFacts, needs: Facts) {
            file = FileIdentity(st)
            self.access = access
            if needs.contains(.pid) { knownIDs |= 1 << 0; ids.pid = UInt32(bitPattern: s.pid) }
            if let id = s.ppid { knownIDs |= 1 << 1; ids.ppid = UInt32(bitPattern: id) }
            if let id = s.uid { knownIDs |= 1 << 2; ids.uid = id }
            if let id = s.gid { knownIDs |= 1 << 3; ids.gid = id }
            if let id = s.auid { knownIDs |= 1 << 4; ids.auid = id }
            if let id = s.sessionid { knownIDs |= 1 << 5; ids.sessionid = id }
            var names: [UInt8] = []
            names.reserveCapacity(6 + (path?.count ?? 0) + (s.exe?.count ?? 0) + (s.comm?.count ?? 0))
            func append(_ name: [UInt8]?) {
                // PATH_MAX bounds a path and an exe; a comm is 16 bytes.
                let length = name.map { UInt16(clamping: $0.count) } ?? 0xFFFF
                names.append(UInt8(length & 0xFF))
                names.append(UInt8(length >> 8))
                if let name { names += name }
            }
            append(path)
            append(s.exe)
            append(s.comm)
            // What is known of the executable and of the start: a different one is a different subject.
            if needs.contains(.pattern) || needs.contains(.exeTrust) {
                names.append(s.pattern?.rawValue ?? 0xFF)
                names.append(s.exeTrusted.map { $0 ? 1 : 0 } ?? 0xFF)
            }
            if needs.contains(.exeType) { append(s.exeType) }
            // Every uid and gid a rule matches against: another set is another subject.
            if !s.otherUIDs.isEmpty || !s.otherGIDs.isEmpty {
                for id in s.otherUIDs + [UInt32.max] + s.otherGIDs { withUnsafeBytes(of: id.littleEndian) { names += $0 } }
            }
            if needs.contains(.exeDevice) { append(s.exeDevice) }
            self.names = names
        }

        static func == (a: Key, b: Key) -> Bool {
            a.file == b.file && a.access == b.access && a.knownIDs == b.knownIDs && a.ids == b.ids && a.names == b.names
        }

        func hash(into h: inout Hasher) {
            h.combine(file)
            h.combine(names)
            h.combine(ids.uid)
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

        fileprivate func fulfill(_ entry: Entry?) {
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
            let counter: Counter = if case .miss = found { .cacheMisses } else { .cacheHits }
            counters?.increment(counter)
        }
        return found
    }

    /// Hands the evaluation of a miss to the workers waiting on it, and keeps
    /// it unless `keep` is false (an `ask`, whose answer may change any time).
    func finish(_ key: Key, _ flight: Flight, _ entry: Entry, keep: Bool = true) {
        let dropped = state.withLock { s -> [Key: Entry] in
            s.flights[key] = nil
            return keep ? insert(key, entry, into: &s) : [:]
        }
        withExtendedLifetime(dropped) { flight.fulfill(entry) }
    }

    /// Gives up a miss's evaluation: the workers waiting on it evaluate for
    /// themselves, and nothing is kept.
    func abandon(_ key: Key, _ flight: Flight) {
        state.withLock { s in s.flights[key] = nil }
        flight.fulfill(nil)
    }

    /// Forgets every kept decision (evaluations in flight finish as they would).
    package func removeAll() {
        let dropped = state.withLock { s -> ([Key: Entry], [Key: Entry]) in
            defer { s.young = [:]; s.old = [:] }
            return (s.young, s.old)
        }
        withExtendedLifetime(dropped) {}
    }

    /// How many decisions are kept.
    package var count: Int { state.withLock { $0.young.count + $0.old.count } }

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
