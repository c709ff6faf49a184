extension Policy {
    /// First match wins; no match allows. A test of a fact that is not known
    /// (nil) fails, negated or not.
    public func decide(_ request: AccessRequest) -> Decision {
        for rule in rules where rule.matches(request) {
            return Decision(verdict: rule.decision.verdict, logs: rule.decision.logs, rule: rule)
        }
        return Decision(verdict: .allow, logs: false, rule: nil)
    }
}

extension Rule {
    public func matches(_ request: AccessRequest) -> Bool {
        perm.covers(request.access)
            && subject.allSatisfy { $0.matches(request.subject) }
            && object.allSatisfy { $0.matches(path: request.path) }
    }
}

extension Test where Attribute == SubjectAttribute {
    func matches(_ s: SubjectFacts) -> Bool {
        let hit: Bool? = switch attribute {
        case .uid(let v): s.uid.map(v.contains)
        case .gid(let v): s.gid.map(v.contains)
        case .pid(let v): v.contains(s.pid)
        case .comm(let v): s.comm.map(v.contains)
        case .exe(let v): s.exe.map(v.contains)
        }
        guard let hit else { return false }
        return hit != negated
    }
}

extension Test where Attribute == ObjectAttribute {
    func matches(path: [UInt8]?) -> Bool {
        guard let path else { return false }
        let hit = switch attribute {
        case .path(let v): v.contains(path)
        case .dir(let v): v.contains { path.starts(with: $0) }
        }
        return hit != negated
    }
}
