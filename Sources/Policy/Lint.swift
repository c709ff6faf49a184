/// Warnings about rules that can never match: an earlier rule matches
/// everything they do (a shadowed rule), or says the same (a duplicate).
///
/// Near-linear: an earlier rule is compared only with the later rules that
/// share one of its values (`ShadowIndex`), and at most
/// `ShadowIndex.candidateLimit` earlier rules are compared with any one rule;
/// a rule past that limit is counted, and one warning says how many were not
/// checked.
func lint(_ rules: [Rule]) -> [PolicyDiagnostic] {
    var warnings: [PolicyDiagnostic] = []
    var index = ShadowIndex()
    var unchecked: [Rule] = []
    for (j, later) in rules.enumerated() {
        let (candidates, complete) = index.candidates(covering: later)
        let covering = candidates.first { rules[$0].covers(later) }
        if covering == nil && !complete { unchecked.append(later) }
        if let n = covering {
            let earlier = rules[n]
            let same = earlier.perm == later.perm && Set(earlier.subject) == Set(later.subject)
                && Set(earlier.object) == Set(later.object)
            let message = same && earlier.decision == later.decision
                ? "duplicate of rule \(earlier.number) (\(earlier.location.file):\(earlier.location.line))"
                : "never matches: rule \(earlier.number) (\(earlier.location.file):\(earlier.location.line)) matches everything this rule does, first"
            warnings.append(PolicyDiagnostic(location: later.location, severity: .warning, message: message))
        }
        index.add(j, later)
    }
    if let first = unchecked.first {
        warnings.append(PolicyDiagnostic(
            location: first.location, severity: .warning,
            message: "\(unchecked.count) rule\(unchecked.count == 1 ? " was" : "s were") not fully checked for shadowing (this one first): more than \(ShadowIndex.candidateLimit) earlier rules share their values"))
    }
    return warnings
}

/// Earlier rules, found by the values a later rule would have to share with
/// them to be covered: rule E covers rule L only if each test of E is implied
/// by a test of L, so E is filed under the values of one of its `=` tests
/// (its key) and found from L's values (a `dir=` or `exe_dir=` key from each
/// folder above L's path). Rules with no such test are always candidates.
struct ShadowIndex {
    static let candidateLimit = 256

    private struct Key: Hashable {
        var attribute: Attribute
        var value: [UInt8]
    }

    private var exact: [Key: [Int]] = [:]
    private var folders: [Key: [Int]] = [:]
    private var unkeyed: [Int] = []

    mutating func add(_ n: Int, _ rule: Rule) {
        // The most selective key: exact values (a path, a uid) before folders.
        let tests = (rule.object + rule.subject).filter { $0.comparison == .equal && !$0.values.isEmpty }
        let keyTest = tests.first { $0.values.allSatisfy { if case .bytes = $0 { true } else if case .number = $0 { true } else { false } } }
            ?? tests.first { $0.values.allSatisfy { if case .glob = $0 { false } else { true } } }
        guard let keyTest else { return unkeyed.append(n) }
        for value in keyTest.values {
            switch value {
            case .bytes(let b): exact[Key(attribute: keyTest.attribute, value: b), default: []].append(n)
            case .number(let x): exact[Key(attribute: keyTest.attribute, value: Array(String(x).utf8)), default: []].append(n)
            case .prefix(let p): folders[Key(attribute: keyTest.attribute, value: p), default: []].append(n)
            case .glob: break
            }
        }
    }

    /// The earlier rules that could cover `rule`, ascending, and whether that
    /// list is whole (false when the limit cut it).
    func candidates(covering rule: Rule) -> ([Int], complete: Bool) {
        var found = unkeyed.prefix(Self.candidateLimit + 1).map { $0 }
        func take(_ list: [Int]?) {
            guard let list else { return }
            found += list.prefix(Self.candidateLimit + 1)
        }
        for test in rule.object + rule.subject where test.comparison == .equal {
            guard let value = test.values.first else { continue }
            let folderAttribute: Attribute? = switch test.attribute {
            case .path, .dir: .dir
            case .exe, .exeDir: .exeDir
            default: nil
            }
            var bytes: [UInt8]
            switch value {
            case .bytes(let b):
                bytes = b
                take(exact[Key(attribute: test.attribute, value: b)])
            case .number(let x):
                bytes = []
                take(exact[Key(attribute: test.attribute, value: Array(String(x).utf8))])
            case .prefix(let p): bytes = p
            case .glob: bytes = []
            }
            guard let folderAttribute else { continue }
            for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "/") {
                take(folders[Key(attribute: folderAttribute, value: Array(bytes[...i]))])
            }
        }
        let sorted = Set(found).sorted()
        return (Array(sorted.prefix(Self.candidateLimit)), sorted.count <= Self.candidateLimit)
    }
}

extension Rule {
    /// Whether every request `other` matches, this rule matches too.
    func covers(_ other: Rule) -> Bool {
        perm.covers(other.perm)
            && subject.allSatisfy { t in other.subject.contains { $0.implies(t) } }
            && object.allSatisfy { t in other.object.contains { $0.implies(t) } }
    }
}

extension Test {
    /// Whether every fact that passes this test passes `other` too (conservative: false when unsure).
    func implies(_ other: Test) -> Bool {
        if self == other { return true }
        switch (comparison, other.comparison) {
        case (.equal, .equal):
            let sameFact = attribute == other.attribute
                || (attribute == .path && other.attribute == .dir) || (attribute == .exe && other.attribute == .exeDir)
            return sameFact && values.allSatisfy { v in other.values.contains { $0.includes(v) } }
        case (.notEqual, .notEqual):
            return attribute == other.attribute && other.values.allSatisfy(values.contains)
        default:
            return false
        }
    }
}

extension Pattern {
    /// Whether every fact `other` matches, this pattern matches.
    func includes(_ other: Pattern) -> Bool {
        switch (self, other) {
        case (.prefix(let p), .prefix(let q)), (.prefix(let p), .bytes(let q)): q.starts(with: p)
        case (.glob(let g), .bytes(let b)): g.matches(b)
        default: self == other
        }
    }
}
