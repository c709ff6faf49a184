extension Policy {
    /// First match wins, through the rule index; no match gives the `default`
    /// setting. A test of a fact that is not known gives what
    /// `Rule.unknownSubjectFactMatches` and `Test.matches` say.
    ///
    /// With `passingOverAsk`, `ask` rules are passed over as if they did not
    /// match: the request is a connected decider's own, which would wait on
    /// itself, and the other rules decide it (such a decision is the
    /// decider's alone: never cache it for other processes).
    ///
    /// `candidates`, when given, are this request's (`candidates(for:path:)`
    /// with its access and path), found once for `neededFacts(among:)` and this.
    public func decide(_ request: borrowing AccessRequest, among candidates: RuleCandidates? = nil,
                       passingOverAsk: Bool = false) -> Decision {
        let candidates = candidates ?? self.candidates(for: request.access, path: request.object.path)
        assert(candidates.access == request.access && candidates.path == request.object.path,
               "candidates found for another access or path")
        for n in candidates {
            if passingOverAsk && rules[n].decision == .ask { continue }
            if rules[n].matches(request) { return decision(by: rules[n]) }
        }
        return decision(by: nil)
    }

    /// Whether every process would get a plain allow for this access to this
    /// file: going through the rules that could match the file in order,
    /// each one some process could match is a plain `allow`, up to the first
    /// that every process matches (one with no subject test), or, when there
    /// is none, the default is allow. Such an allow may be cached in the
    /// kernel for the file's inode. Logged, audited and `ask` decisions never are.
    public func allowsForEveryProcess(_ request: AccessRequest, _ decision: Decision) -> Bool {
        guard decision.verdict == .allow, decision.rule.map({ $0.decision == .allow }) ?? true else { return false }
        for n in index.candidates(request.access, path: request.object.path) {
            let rule = rules[n]
            var objectMatches = true
            for test in rule.object where !test.matches(request) { objectMatches = false; break }
            guard objectMatches else { continue }
            if rule.decision != .allow { return false }
            if rule.subject.isEmpty { return true }
        }
        return settings.defaultVerdict == .allow
    }

    /// The same decision by a plain scan of every rule, in order.
    public func decideLinearly(_ request: AccessRequest) -> Decision {
        decision(by: rules.first { $0.matches(request) })
    }

    /// The decision, and for each rule tried before it why it did not match.
    public func explain(_ request: AccessRequest) -> (decision: Decision, tried: [(rule: Rule, reason: String)]) {
        var tried: [(rule: Rule, reason: String)] = []
        for rule in rules {
            guard let reason = rule.mismatch(request) else { return (decision(by: rule), tried) }
            tried.append((rule, reason))
        }
        return (decision(by: nil), tried)
    }

    private func decision(by rule: Rule?) -> Decision {
        guard let rule else { return Decision(verdict: settings.defaultVerdict, rule: nil) }
        return Decision(verdict: rule.decision.verdict ?? settings.onNoClient, rule: rule)
    }
}

extension Rule {
    public func matches(_ request: borrowing AccessRequest) -> Bool {
        // Loops, not closures: a closure would take a copy of the request.
        guard perm.covers(request.access) else { return false }
        let unknown = unknownSubjectFactMatches
        for test in subject where !test.matches(request, unknownMatches: unknown) { return false }
        for test in object where !test.matches(request, unknownMatches: unknownObjectFactMatches(test, request)) {
            return false
        }
        return true
    }

    /// What a test of an unknown object fact gives: no match, but for a fact
    /// of the contents of a file open for writing, which the writer could
    /// change at will: then as for a hidden subject fact.
    func unknownObjectFactMatches(_ test: Test, _ request: borrowing AccessRequest) -> Bool {
        request.object.contentsChanging && test.attribute.readsContents && unknownSubjectFactMatches
    }

    /// What a test of a subject fact the agent could not learn gives in this
    /// rule: a process can hide its facts (an exited main thread hides its
    /// executable), so an unknown one never earns an allow and never escapes
    /// a deny. In an `allow` rule the test fails, `=` and `!=` alike; in a
    /// `deny` or `ask` rule it holds. Object facts keep "an unknown fact
    /// matches no test" (the opener does not choose them), but for the
    /// contents of a file open for writing (`unknownObjectFactMatches`).
    public var unknownSubjectFactMatches: Bool { decision.verdict != .allow }

    /// Why the rule does not match, or nil when it does.
    public func mismatch(_ request: AccessRequest) -> String? {
        if !perm.covers(request.access) { return "perm=\(perm.rawValue) does not cover \(request.access.rawValue)" }
        let unknown = unknownSubjectFactMatches
        for test in subject where !test.matches(request, unknownMatches: unknown) { return mismatch(test, request) }
        for test in object where !test.matches(request, unknownMatches: unknownObjectFactMatches(test, request)) {
            return mismatch(test, request)
        }
        return nil
    }

    private func mismatch(_ test: Test, _ request: AccessRequest) -> String {
        let actual = test.actual(request).map { "is \($0)" } ?? "is not known"
        let fact = test.attribute == .dir ? "path" : test.attribute == .exeDir ? "exe" : test.attribute.name
        return "\(fact) \(actual), and the rule wants \(test)"
    }
}

extension Test: CustomStringConvertible {
    /// The test as a policy writes it (`uid=0,1000`, `path!=glob:/tmp/*`).
    public var description: String {
        attribute.name + comparison.rawValue + values.map { value in
            switch value {
            case .number(let n) where attribute == .pattern:
                StartPattern.names.first { $0.1.rawValue == n }?.0 ?? String(n)
            case .number(let n): String(n)
            case .bytes(let b), .prefix(let b), .nothing(let b): needsQuotes(b) ? "\"\(printable(b))\"" : printable(b)
            case .glob(let g): g.description
            case .untrusted: "untrusted"
            }
        }.joined(separator: ",")
    }

    func fact(_ r: borrowing AccessRequest) -> FactValue? {
        // Read in place: a copy of the subject or object would retain each of their arrays.
        switch attribute {
        case .uid: return r.subject.uid.map { .number(UInt64($0)) }
        case .gid: return r.subject.gid.map { .number(UInt64($0)) }
        case .auid: return r.subject.auid.map { .number(UInt64($0)) }
        case .sessionid: return r.subject.sessionid.map { .number(UInt64($0)) }
        case .pid: return .number(UInt64(UInt32(bitPattern: r.subject.pid)))
        case .ppid: return r.subject.ppid.map { .number(UInt64(UInt32(bitPattern: $0))) }
        case .size: return r.object.size.map(FactValue.number)
        case .comm: return r.subject.comm.map(FactValue.bytes)
        case .exe, .exeDir: return r.subject.exe.map(FactValue.bytes)
        case .path, .dir: return r.object.path.map(FactValue.bytes)
        case .device: return r.object.device.map(FactValue.bytes)
        case .fstype: return r.object.fstype.map(FactValue.bytes)
        case .sha256hash: return r.object.sha256.map(FactValue.bytes)
        case .sha512hash: return r.object.sha512.map(FactValue.bytes)
        case .ftype: return r.object.ftype.map(FactValue.bytes)
        case .trust: return r.object.trusted.map { .number($0 ? 1 : 0) }
        case .exeType: return r.subject.exeType.map(FactValue.bytes)
        case .exeDevice: return r.subject.exeDevice.map(FactValue.bytes)
        case .exeTrust: return r.subject.exeTrusted.map { .number($0 ? 1 : 0) }
        case .pattern: return r.subject.pattern.map { .number(UInt64($0.rawValue)) }
        }
    }

    func actual(_ r: AccessRequest) -> String? {
        if attribute == .pattern { return r.subject.pattern?.description }
        switch fact(r) {
        case .number(let n): return String(n)
        case .bytes(let b): return printable(b)
        case nil: return nil
        }
    }

    /// Whether the request passes the test. A fact that is not known gives
    /// `unknownMatches` (false, "matches no test", unless the rule says
    /// otherwise: `Rule.unknownSubjectFactMatches`).
    public func matches(_ r: borrowing AccessRequest, unknownMatches: Bool = false) -> Bool {
        // A process has several uids and gids: `=` (and an order) holds when one of them
        // passes, `!=` when every one does (none is in the list).
        let primary = attribute == .uid ? r.subject.uid : attribute == .gid ? r.subject.gid : nil
        guard let primary else { return matchesOne(r, unknownMatches: unknownMatches) }
        let others = attribute == .uid ? r.subject.otherUIDs : r.subject.otherGIDs
        func passes(_ id: UInt32) -> Bool { matches(.number(UInt64(id)), trusted: nil, unknownMatches: unknownMatches) }
        if comparison == .notEqual { return passes(primary) && others.allSatisfy(passes) }
        return passes(primary) || others.contains(where: passes)
    }

    private func matchesOne(_ r: borrowing AccessRequest, unknownMatches: Bool) -> Bool {
        guard let fact = fact(r) else { return unknownMatches }
        // `untrusted` reads the trust of the file the test names.
        let trusted: Bool? = switch attribute.untrustedFact {
        case .exeTrust?: r.subject.exeTrusted
        case .trust?: r.object.trusted
        default: nil
        }
        return matches(fact, trusted: trusted, unknownMatches: unknownMatches)
    }

    /// Whether a known fact passes the test; `trusted` is the trust of the
    /// file an `untrusted` value reads (nil: not known, or no such file).
    /// Takes no request: a closure here would copy it.
    private func matches(_ fact: FactValue, trusted: Bool?, unknownMatches: Bool) -> Bool {
        func matches(_ value: Pattern) -> Bool? {
            switch value {
            case .untrusted:
                // An executable whose trust is not known counts as untrusted wherever that costs an allow;
                // otherwise unknown trust matches neither way.
                if trusted == nil, attribute.untrustedFact == .exeTrust, unknownMatches { return comparison == .equal }
                return trusted.map { !$0 }
            case .number(let v) where attribute == .pattern:
                guard case .number(let shown) = fact else { return false }
                return shown & v != 0
            default:
                return value.matches(fact)
            }
        }
        switch comparison {
        case .equal:
            for value in values where matches(value) == true { return true }
            return false
        case .notEqual:
            var unknown = false
            for value in values {
                switch matches(value) {
                case true?: return false
                case nil: unknown = true
                case false?: break
                }
            }
            return !unknown
        case .less, .greater, .lessOrEqual, .greaterOrEqual:
            guard case .number(let n) = fact, case .number(let v) = values.first else { return false }
            switch comparison {
            case .less: return n < v
            case .greater: return n > v
            case .lessOrEqual: return n <= v
            default: return n >= v
            }
        }
    }
}

extension Pattern {
    func matches(_ fact: FactValue) -> Bool {
        switch (self, fact) {
        case (.number(let v), .number(let n)): v == n
        case (.bytes(let v), .bytes(let b)): v == b
        case (.prefix(let p), .bytes(let b)): b.starts(with: p)
        case (.glob(let g), .bytes(let b)): g.matches(b)
        default: false
        }
    }
}

private func needsQuotes(_ b: [UInt8]) -> Bool {
    b.contains { $0 <= 0x20 || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "#") || $0 >= 0x7F }
}
