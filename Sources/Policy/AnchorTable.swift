/// The rule numbers of each anchor (an exact path, or a folder prefix ending
/// in "/"), found by the anchor's FNV-1a hash, which `RuleIndex` computes as
/// it walks a path byte by byte: an open-addressed table on that hash, so a
/// lookup hashes nothing a second time. Built once with the policy, read
/// only after.
struct AnchorTable: Sendable {
    private struct Entry: Sendable {
        let hash: UInt64
        let key: [UInt8]
        /// Ascending, each once.
        var rules: [Int]
    }

    private var entries: [Entry] = []
    /// Positions in `entries` (-1: empty); a power of two, more than twice as many as the entries.
    private var slots: [Int32] = [-1]

    var isEmpty: Bool { entries.isEmpty }

    /// Adds `rule` (rules come in ascending order) to the anchor `key`.
    mutating func add(_ rule: Int, _ key: [UInt8]) {
        let h = Self.hash(key[...])
        if let i = position(of: key[...], hash: h) {
            if entries[i].rules.last != rule { entries[i].rules.append(rule) }
            return
        }
        entries.append(Entry(hash: h, key: key, rules: [rule]))
        if entries.count * 2 >= slots.count {
            slots = Array(repeating: -1, count: slots.count * 4)
            for i in entries.indices { place(i) }
        } else {
            place(entries.count - 1)
        }
    }

    /// The rules of the anchor `key`, whose hash is `h`.
    func rules(of key: ArraySlice<UInt8>, hash h: UInt64) -> [Int]? {
        position(of: key, hash: h).map { entries[$0].rules }
    }

    private func position(of key: ArraySlice<UInt8>, hash h: UInt64) -> Int? {
        let mask = slots.count - 1
        var i = Self.slot(h, mask)
        while slots[i] >= 0 {
            let e = Int(slots[i])
            if entries[e].hash == h, entries[e].key[...] == key { return e }
            i = (i + 1) & mask
        }
        return nil
    }

    private mutating func place(_ entry: Int) {
        let mask = slots.count - 1
        var i = Self.slot(entries[entry].hash, mask)
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(entry)
    }

    private static func slot(_ h: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: h ^ (h >> 29)) & mask }

    static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x100_0000_01b3

    /// FNV-1a of `bytes`, as `RuleIndex` computes it a byte at a time.
    static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h = offset
        for b in bytes { h = (h ^ UInt64(b)) &* prime }
        return h
    }
}
