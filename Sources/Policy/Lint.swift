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
