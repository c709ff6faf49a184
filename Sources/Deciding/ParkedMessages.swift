import EventFacts
import Synchronization

/// The messages parked while the background hasher reads a digest they
/// need, and the digests it hands back with them.
///
/// Guarantee: a parked message is handed back once for each time it is
/// parked, and never before the worker that parked it has finished parking
/// it (the hasher may finish first); its worker's get is primed again once,
/// however many digests it waits for; a decided message leaves nothing
/// behind. Looked up without a lock while none is parked.
final class ParkedMessages: Sendable {
    private struct Entry {
        var digests: [LibCrypto.Algorithm: [UInt8]?] = [:]
        /// Parked, and the hasher's answer not in yet.
        var waiting = false
        /// The hasher answered before the worker finished parking it.
        var answered = false
        /// Its worker's get was primed again.
        var primed = false
    }

    private let entries = Mutex<[UInt64: Entry]>([:])
    private let count = Atomic<Int>(0)

    /// The digest the hasher handed back for message `id`, if it did.
    func digest(of id: UInt64, _ algorithm: LibCrypto.Algorithm) -> [UInt8]?? {
        guard count.load(ordering: .relaxed) > 0 else { return nil }
        return entries.withLock { $0[id]?.digests[algorithm] }
    }

    /// The hasher's digest for message `id`: true when the message is to be
    /// handed back now (its worker has parked it; else the worker will).
    func answer(_ id: UInt64, _ algorithm: LibCrypto.Algorithm, _ digest: [UInt8]?) -> Bool {
        update(id) { entry in
            entry.digests.updateValue(digest, forKey: algorithm)
            guard entry.waiting else {
                entry.answered = true
                return false
            }
            entry.waiting = false
            return true
        }
    }

    /// Message `id`'s worker parked it: whether to prime the worker's get
    /// again (the first time), and whether to hand the message back now (the
    /// hasher has answered already).
    func park(_ id: UInt64) -> (prime: Bool, resume: Bool) {
        update(id) { entry in
            let prime = !entry.primed
            entry.primed = true
            guard entry.answered else {
                entry.waiting = true
                return (prime, false)
            }
            entry.answered = false
            return (prime, true)
        }
    }

    /// Message `id` is decided: it is forgotten. True when its worker's get
    /// was primed again already.
    func decided(_ id: UInt64) -> Bool {
        guard count.load(ordering: .relaxed) > 0 else { return false }
        return entries.withLock { e in
            guard let entry = e.removeValue(forKey: id) else { return false }
            count.subtract(1, ordering: .relaxed)
            return entry.primed
        }
    }

    private func update<R>(_ id: UInt64, _ body: (inout Entry) -> R) -> R {
        entries.withLock { e in
            if e[id] == nil { count.add(1, ordering: .relaxed) }
            var entry = e[id] ?? Entry()
            defer { e[id] = entry }
            return body(&entry)
        }
    }
}
