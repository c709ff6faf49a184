/// Rules indexed by access and by the path they are anchored to, so a
/// decision looks at the few rules that could match instead of all of them.
///
/// A rule with a positive `path=` test is anchored to its exact paths (a glob
/// to the folder before its first wildcard); one with a positive `dir=` test
/// to its prefixes; any other rule is unanchored and always a candidate.
/// Candidates are visited in rule order, so first-match semantics are exactly
/// those of a linear scan.
struct RuleIndex: Sendable {
    private struct Table: Sendable {
        /// By FNV-1a hash of the key: the keys with that hash and their rule numbers (0-based, ascending).
        var exact: [UInt64: [(key: [UInt8], rules: [Int])]] = [:]
        var prefixes: [UInt64: [(key: [UInt8], rules: [Int])]] = [:]
        var unanchored: [Int] = []
    }

    private var tables = [Table(), Table()]
    /// The facts each rule tests, by rule number (0-based).
    private(set) var ruleFacts: [Facts] = []
    /// Whether some rule for opens (0) or executions (1) tests the path (`path=`, `dir=`).
    private(set) var pathTested = [false, false]

    init(_ rules: [Rule]) {
        for (n, rule) in rules.enumerated() {
            ruleFacts.append((rule.subject + rule.object).reduce(into: Facts()) { $0.formUnion($1.facts) })
            let testsPath = rule.object.contains { $0.attribute == .path || $0.attribute == .dir }
            for access in [Access.open, .execute] where rule.perm.covers(access) {
                let t = access == .open ? 0 : 1
                if testsPath { pathTested[t] = true }
                guard let anchors = Self.anchors(of: rule) else {
                    tables[t].unanchored.append(n)
                    continue
                }
                for key in anchors.exact { Self.add(n, key, to: &tables[t].exact) }
                for key in anchors.prefixes { Self.add(n, key, to: &tables[t].prefixes) }
            }
        }
    }

    private static func add(_ rule: Int, _ key: [UInt8], to table: inout [UInt64: [(key: [UInt8], rules: [Int])]]) {
        // Changed in place: a copy of the bucket per rule would make loading quadratic.
        let h = fnv(key[...])
        if let i = table[h]?.firstIndex(where: { $0.key == key }) {
            if table[h]![i].rules.last != rule { table[h]![i].rules.append(rule) }
        } else {
            table[h, default: []].append((key, [rule]))
        }
    }

    /// The exact paths and folder prefixes one of which every path this rule matches has.
    private static func anchors(of rule: Rule) -> (exact: [[UInt8]], prefixes: [[UInt8]])? {
        for attribute in [Attribute.path, .dir] {
            guard let test = rule.object.first(where: { $0.attribute == attribute && $0.comparison == .equal }) else { continue }
            var exact: [[UInt8]] = [], prefixes: [[UInt8]] = []
            for value in test.values {
                switch value {
                case .bytes(let b): exact.append(b)
                case .prefix(let p): prefixes.append(p)
                case .glob(let g):
                    let literal = g.literalPrefix
                    guard let slash = literal.lastIndex(of: UInt8(ascii: "/")) else { return nil }
                    prefixes.append(Array(literal[...slash]))
                case .number, .untrusted: return nil
                case .nothing: break  // matches no path: nothing to anchor
                }
            }
            return (exact, prefixes)
        }
        return nil
    }

    /// Calls `body` with each candidate rule number in ascending order until it
    /// returns false. Up to 128 anchored candidates are gathered on the stack.
    func forEachCandidate(_ access: Access, path: [UInt8]?, _ body: (Int) -> Bool) {
        let table = tables[access == .open ? 0 : 1]
        guard let path, !table.exact.isEmpty || !table.prefixes.isEmpty else {
            return Self.merge(EmptyCollection(), table.unanchored, body)
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 128) { stack in
            var count = 0
            var spilled: [Int] = []
            func add(_ rules: [Int]) {
                if spilled.isEmpty, count + rules.count <= stack.count {
                    for rule in rules { stack[count] = rule; count += 1 }
                } else {
                    if spilled.isEmpty { spilled = Array(stack[..<count]) }
                    spilled += rules
                }
            }
            if let bucket = table.exact[fnv(path[...])] {
                for entry in bucket where entry.key == path { add(entry.rules) }
            }
            if !table.prefixes.isEmpty {
                var h: UInt64 = fnvOffset
                for i in path.indices {
                    h = (h ^ UInt64(path[i])) &* fnvPrime
                    guard path[i] == UInt8(ascii: "/"), let bucket = table.prefixes[h] else { continue }
                    for entry in bucket where entry.key.count == i + 1 && path[...i].elementsEqual(entry.key) {
                        add(entry.rules)
                    }
                }
            }
            if spilled.isEmpty {
                var found = UnsafeMutableBufferPointer(rebasing: stack[..<count])
                found.sort()
                Self.merge(found, table.unanchored, body)
            } else {
                spilled.sort()
                Self.merge(spilled, table.unanchored, body)
            }
        }
    }

    /// Merges the sorted anchored candidates (duplicates skipped) with the unanchored rules, in rule order.
    private static func merge<Found: RandomAccessCollection<Int>>(_ found: Found, _ unanchored: [Int],
                                                                  _ body: (Int) -> Bool) where Found.Index == Int {
        var a = found.startIndex, b = 0
        while a < found.endIndex || b < unanchored.count {
            let next: Int
            if b == unanchored.count || (a < found.endIndex && found[a] < unanchored[b]) {
                next = found[a]; a += 1
                if a < found.endIndex, found[a] == next { continue }
            } else {
                next = unanchored[b]; b += 1
            }
            if !body(next) { return }
        }
    }
}

private let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
private let fnvPrime: UInt64 = 0x100_0000_01b3

private func fnv(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var h = fnvOffset
    for b in bytes { h = (h ^ UInt64(b)) &* fnvPrime }
    return h
}
