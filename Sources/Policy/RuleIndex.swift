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
        /// Rule numbers (0-based, ascending) by exact path, and by folder prefix.
        var exact = AnchorTable()
        var prefixes = AnchorTable()
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
                for key in anchors.exact { tables[t].exact.add(n, key) }
                for key in anchors.prefixes { tables[t].prefixes.add(n, key) }
            }
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

    /// The rules that could match `access` to `path`, in ascending order.
    /// One anchor found (the usual case) costs no allocation: its rule list is the walk's.
    func candidates(_ access: Access, path: [UInt8]?) -> RuleCandidates {
        let table = tables[access == .open ? 0 : 1]
        guard let path, !table.exact.isEmpty || !table.prefixes.isEmpty else {
            return RuleCandidates(access, path: path, anchored: [], unanchored: table.unanchored)
        }
        var anchored: [Int] = []
        var joined = false
        func take(_ rules: [Int]) {
            if anchored.isEmpty {
                anchored = rules
            } else {
                anchored += rules
                joined = true
            }
        }
        // One pass: the hash of each folder prefix on the way, of the whole path at the end.
        var h = AnchorTable.offset
        for i in path.indices {
            h = (h ^ UInt64(path[i])) &* AnchorTable.prime
            if path[i] == UInt8(ascii: "/"), !table.prefixes.isEmpty, let rules = table.prefixes.rules(of: path[...i], hash: h) {
                take(rules)
            }
        }
        if !table.exact.isEmpty, let rules = table.exact.rules(of: path[...], hash: h) { take(rules) }
        if joined { anchored.sort() }
        return RuleCandidates(access, path: path, anchored: anchored, unanchored: table.unanchored)
    }
}
