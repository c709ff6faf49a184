import Foundation
import Policy
import XCTest

func facts(_ access: Access = .open, path: String? = "/srv/x", uid: UInt32? = 1000, gid: UInt32? = 1000,
           auid: UInt32? = 1000, session: UInt32? = 3, pid: Int32 = 4242, ppid: Int32? = 1,
           comm: String? = "cat", exe: String? = "/usr/bin/cat", device: String? = "/dev/vda1",
           fstype: String? = "ext4", size: UInt64? = 100, sha: String? = nil) -> AccessRequest {
    AccessRequest(access: access,
                  subject: SubjectFacts(pid: pid, ppid: ppid, uid: uid, gid: gid, auid: auid, sessionid: session,
                                        comm: comm.map { Array($0.utf8) }, exe: exe.map { Array($0.utf8) }),
                  object: ObjectFacts(path: path.map { Array($0.utf8) }, device: device.map { Array($0.utf8) },
                                      fstype: fstype.map { Array($0.utf8) }, size: size, sha256: sha.map { Array($0.utf8) }))
}

final class LanguageTests: XCTestCase {
    func ruleNumber(_ policy: Policy, _ request: AccessRequest) -> Int? { policy.decide(request).rule?.number }

    func testEveryDecision() throws {
        let p = try parse("""
        on_no_client = deny
        allow_audit perm=open all : path=/a
        deny_audit perm=open all : path=/b
        ask perm=open all : path=/c
        allow_log perm=open all : path=/d
        """)
        XCTAssertTrue(p.decide(facts(path: "/a")).audits)
        XCTAssertEqual(p.decide(facts(path: "/a")).verdict, .allow)
        XCTAssertEqual(p.decide(facts(path: "/b")).verdict, .deny)
        XCTAssertTrue(p.decide(facts(path: "/c")).asks)
        XCTAssertEqual(p.decide(facts(path: "/c")).verdict, .deny, "ask without a client is on_no_client")
        XCTAssertTrue(p.decide(facts(path: "/d")).logs)
    }

    func testWhichAllowsHoldForEveryProcess() throws {
        let p = try parse("""
        deny uid=1000 : dir=/srv/secret/
        allow_log all : path=/srv/logged
        allow exe=/usr/bin/cat : path=/srv/cat-only
        deny all : path=/srv/denied
        allow uid=0 : path=/srv/root-only
        deny all : path=/srv/root-only
        """)
        func every(_ path: String) -> Bool { p.allowsForEveryProcess(facts(path: path, uid: 0), p.decide(facts(path: path, uid: 0))) }
        XCTAssertTrue(every("/srv/plain"), "the default allow, no rule about the subject can match it")
        XCTAssertFalse(every("/srv/secret/x"), "uid 1000 would be denied")
        XCTAssertFalse(every("/srv/logged"), "logged decisions are never cached")
        XCTAssertTrue(every("/srv/cat-only"), "cat by the rule, every other process by the default")
        XCTAssertFalse(every("/srv/root-only"), "root by the rule, every other process denied after it")
        XCTAssertFalse(every("/srv/denied"))
        XCTAssertFalse(try parse("default = deny").allowsForEveryProcess(facts(), Decision(verdict: .deny, rule: nil)))
    }

    func testFactsNeededAreThoseOfTheRulesThatCouldMatchThePath() throws {
        let p = try parse("""
        deny comm=nc : dir=/etc/ssl/
        allow perm=any exe=/usr/bin/rsync : all
        deny perm=execute uid=1000 : path=/srv/tool
        deny perm=open auid=1000 : path=/srv/tool
        deny all : dir=/srv/big/ size>100
        """)
        XCTAssertEqual(p.neededFacts(for: .open, path: Array("/home/a".utf8)), .exe)
        XCTAssertEqual(p.neededFacts(for: .open, path: Array("/etc/ssl/key".utf8)), [.comm, .exe])
        XCTAssertEqual(p.neededFacts(for: .open, path: Array("/srv/tool".utf8)), [.exe, .auid])
        XCTAssertEqual(p.neededFacts(for: .execute, path: Array("/srv/tool".utf8)), [.exe, .uid])
        XCTAssertEqual(p.neededFacts(for: .open, path: Array("/srv/big/f".utf8)), [.exe, .size])
        XCTAssertEqual(p.neededFacts(for: .open, path: nil), .exe)
    }

    func testCacheSettings() throws {
        XCTAssertEqual(try parse("").agent.cache, .kernel)
        XCTAssertEqual(try parse("cache = user\ncache_size = 100").agent.cache, .user)
        XCTAssertEqual(try parse("cache_size = 100").agent.cacheSize, 100)
        XCTAssertEqual(try parse("cache = off").agent.cache, .off)
    }

    func testSpinSetting() throws {
        XCTAssertEqual(try parse("").agent.spin, .auto)
        XCTAssertEqual(try parse("spin = off").agent.spin, .off)
        XCTAssertEqual(errors("spin = always"), ["1:8: unknown spin 'always' (expected auto or off)"])
    }

    func testMetricsSettings() throws {
        XCTAssertNil(try parse("").agent.metricsFile)
        XCTAssertEqual(try parse("").agent.metricsInterval, .seconds(15))
        let p = try parse("metrics_file = /var/lib/prometheus/node-exporter/fanfilter.prom\nmetrics_interval = 5s")
        XCTAssertEqual(p.agent.metricsFile, Array("/var/lib/prometheus/node-exporter/fanfilter.prom".utf8))
        XCTAssertEqual(p.agent.metricsInterval, .seconds(5))
        XCTAssertEqual(errors("metrics_interval = 10ms"), ["1:20: metrics_interval must be from 1s to 3600s"])
        XCTAssertEqual(errors("metrics_file = fanfilter.prom").count, 1, "a relative path is refused")
    }

    func testDefaultVerdict() throws {
        XCTAssertEqual(try parse("default = deny").decide(facts()).verdict, .deny)
        XCTAssertEqual(try parse("").decide(facts()).verdict, .allow)
    }

    func testSubjectAttributes() throws {
        let p = try parse("""
        deny auid=1000 : path=/auid
        deny sessionid=3 : path=/session
        deny ppid=1 : path=/ppid
        deny exe_dir=/usr/bin/ : path=/exedir
        deny exe=glob:/usr/*/cat : path=/exeglob
        deny comm=glob:c?t : path=/commglob
        deny gid=1000 uid!=0 : path=/gid
        """)
        for (path, rule) in [("/auid", 1), ("/session", 2), ("/ppid", 3), ("/exedir", 4), ("/exeglob", 5), ("/commglob", 6), ("/gid", 7)] {
            XCTAssertEqual(ruleNumber(p, facts(path: path)), rule, path)
        }
        XCTAssertNil(ruleNumber(p, facts(path: "/auid", auid: 4_294_967_295)))
        XCTAssertNil(ruleNumber(p, facts(path: "/exedir", exe: "/usr/sbin/cat")))
        XCTAssertNil(ruleNumber(p, facts(path: "/gid", uid: 0)))
    }

    func testObjectAttributes() throws {
        let sha = String(repeating: "ab", count: 32)
        let p = try parse("""
        deny all : device=/dev/vda1 path=/dev
        deny all : fstype=tmpfs,ext4 path=/fs
        deny all : sha256hash=\(sha.uppercased())
        deny all : size>1K path=/big
        deny all : size<=10 path=/small
        deny all : path=glob:/srv/**/*.sh
        deny all : path=glob:/opt/[a-c]?/x
        """)
        XCTAssertEqual(ruleNumber(p, facts(path: "/dev")), 1)
        XCTAssertNil(ruleNumber(p, facts(path: "/dev", device: "tmpfs")))
        XCTAssertEqual(ruleNumber(p, facts(path: "/fs")), 2)
        XCTAssertEqual(ruleNumber(p, facts(path: "/any", sha: sha)), 3)
        XCTAssertEqual(ruleNumber(p, facts(path: "/big", size: 1025)), 4)
        XCTAssertNil(ruleNumber(p, facts(path: "/big", size: 1024)))
        XCTAssertEqual(ruleNumber(p, facts(path: "/small", size: 10)), 5)
        XCTAssertEqual(ruleNumber(p, facts(path: "/srv/a/b/c.sh")), 6)
        XCTAssertEqual(ruleNumber(p, facts(path: "/srv/c.sh")), 6, "** matches no folder too")
        XCTAssertNil(ruleNumber(p, facts(path: "/srv/a/c.shx")))
        XCTAssertEqual(ruleNumber(p, facts(path: "/opt/b1/x")), 7)
        XCTAssertNil(ruleNumber(p, facts(path: "/opt/d1/x")))
        XCTAssertNil(ruleNumber(p, facts(path: "/opt/b/1/x")), "? never matches /")
    }

    /// Issue 27: a process that hides a fact (an exited main thread hides
    /// its executable) never escapes a deny by it, nor earns an allow.
    func testAnUnknownSubjectFactNeverEarnsAnAllowNorEscapesADeny() throws {
        let p = try parse("""
        deny perm=open exe!=/usr/bin/cat : path=/srv/a
        deny perm=open exe=/usr/bin/evil : path=/srv/b
        allow perm=open exe=/usr/bin/cat : path=/srv/c
        allow perm=open exe!=/usr/bin/evil : path=/srv/d
        deny perm=open uid<1000 comm!=cron : path=/srv/e
        allow perm=open trust=1 : path=/srv/f
        deny perm=open exe=untrusted : path=/srv/g
        allow perm=open pattern=normal : path=/srv/h
        deny perm=open all : dir=/srv/
        """)
        func rule(_ path: String, exe: String? = nil, uid: UInt32? = nil, comm: String? = nil) -> Int? {
            p.decide(request(path: path, uid: uid, comm: comm, exe: exe)).rule?.number
        }
        // Known facts: each rule as written.
        XCTAssertEqual(rule("/srv/a", exe: "/usr/bin/cat"), 9)
        XCTAssertEqual(rule("/srv/a", exe: "/usr/bin/vi"), 1)
        XCTAssertEqual(rule("/srv/b", exe: "/usr/bin/evil"), 2)
        XCTAssertEqual(rule("/srv/c", exe: "/usr/bin/cat"), 3)
        XCTAssertEqual(rule("/srv/d", exe: "/usr/bin/vi"), 4)
        XCTAssertEqual(rule("/srv/e", uid: 0, comm: "sh"), 5)
        // Unknown: every deny holds, `=` and `!=` alike; no allow matches, so the catch-all denies.
        XCTAssertEqual(rule("/srv/a"), 1)
        XCTAssertEqual(rule("/srv/b"), 2)
        XCTAssertEqual(rule("/srv/c"), 9)
        XCTAssertEqual(rule("/srv/d"), 9)
        XCTAssertEqual(rule("/srv/e"), 5, "an unknown uid and comm: the deny holds")
        XCTAssertEqual(rule("/srv/f"), 9, "unknown trust earns no allow")
        XCTAssertEqual(rule("/srv/g"), 7, "an unknown executable counts as untrusted")
        XCTAssertEqual(rule("/srv/h"), 9, "an unknown start earns no allow")
        // explain says the same.
        let (decision, tried) = p.explain(request(path: "/srv/c", comm: nil, exe: nil))
        XCTAssertEqual(decision.rule?.number, 9)
        XCTAssertTrue(tried.contains { $0.rule.number == 3 && $0.reason == "exe is not known, and the rule wants exe=/usr/bin/cat" },
                      "\(tried.map(\.reason))")
    }

    /// fapolicyd 2.0: `uid=` matches the real, effective or filesystem uid;
    /// `gid=` any gid, supplementary groups included; `!=` holds when none is listed.
    func testEveryUidAndGidOfAProcessCounts() throws {
        let p = try parse("""
        deny perm=open uid=1000 : path=/srv/a
        deny perm=open uid!=0 : path=/srv/b
        deny perm=open gid=27 : path=/srv/c
        deny perm=open uid<1000 : path=/srv/d
        """)
        var setuid = request(path: "/srv/a", uid: 0, gid: 1000)
        setuid.subject.otherUIDs = [1000]
        XCTAssertEqual(p.decide(setuid).rule?.number, 1, "a set-user-ID root program run by uid 1000")
        setuid.object.path = Array("/srv/b".utf8)
        XCTAssertNil(p.decide(setuid).rule, "uid!=0: one of its uids is 0")
        setuid.object.path = Array("/srv/d".utf8)
        XCTAssertEqual(p.decide(setuid).rule?.number, 4, "an order holds when one uid passes")
        var member = request(path: "/srv/c", uid: 1000, gid: 1000)
        XCTAssertNil(p.decide(member).rule)
        member.subject.otherGIDs = [24, 27]
        XCTAssertEqual(p.decide(member).rule?.number, 3, "a supplementary group")
        XCTAssertEqual(p.decide(request(path: "/srv/b", uid: 1000)).rule?.number, 2)
    }

    /// fapolicyd's `ftype=any` matches every file (no type is read), and its
    /// unset login uid is 4294967295.
    func testFtypeAnyAndTheUnsetLoginUid() throws {
        let p = try parse("""
        deny perm=execute all : ftype=any
        deny perm=open auid=4294967295 : ftype=text/plain,any path=/srv/a
        """)
        XCTAssertTrue(p.rules[0].object.isEmpty, "ftype=any leaves the test out")
        XCTAssertEqual(p.decide(request(.execute, path: "/srv/x")).rule?.number, 1)
        XCTAssertFalse(p.neededFacts(for: .execute, path: Array("/srv/x".utf8)).contains(.ftype))
        var daemon = request(path: "/srv/a")
        daemon.subject.auid = 4294967295
        XCTAssertEqual(p.decide(daemon).rule?.number, 2)
        XCTAssertEqual(errors("deny all : ftype!=any"), ["1:19: ftype!=any matches no file"])
        XCTAssertEqual(errors("deny auid=-1 : all"), ["1:11: auid takes no negative number: an unset login uid is 4294967295, as fapolicyd reports it"])
    }

    func testListsSetsAndNegation() throws {
        let p = try parse("""
        %admins=0,1000
        %tmp=/tmp/,/var/tmp/
        deny uid!=%admins : dir=%tmp
        allow_log uid=%admins : path=/srv/a,/srv/b
        """)
        XCTAssertEqual(ruleNumber(p, facts(path: "/var/tmp/x", uid: 5)), 1)
        XCTAssertNil(ruleNumber(p, facts(path: "/var/tmp/x", uid: 1000)))
        XCTAssertEqual(ruleNumber(p, facts(path: "/srv/b", uid: 0)), 2)
        XCTAssertEqual(errors("deny uid=%nope : all"), ["1:10: unknown set '%nope' (define it on a line of its own before it is used)"])
        XCTAssertEqual(errors("%s=0,1\n%s=2"), ["2:1: the set '%s' is already defined at policy:1"])
        XCTAssertEqual(errors("deny all : size>1,2"), ["1:17: > compares with one value, not a list"])
        XCTAssertEqual(errors("deny all : path<5"), ["1:16: 'path' takes = or != only, not <"])
        XCTAssertEqual(errors("deny all : sha256hash=abc"), ["1:23: a SHA-256 digest is 64 hex digits (a filehash of 128 is a SHA-512)"])
        XCTAssertEqual(errors("deny all : path=glob:rel/*"), ["1:22: a path glob must start with /"])
        XCTAssertEqual(errors("deny all : path=glob:/a/[b"), ["1:25: unclosed '[' in a glob"])
        XCTAssertEqual(errors("deny uid=glob:1* : all"), ["1:10: 'uid' takes no glob"])
        XCTAssertEqual(errors("hash_max_size = lots"), ["1:17: 'lots' is not a size (bytes, or a whole number with K, M or G)"])
        XCTAssertEqual(try parse("hash_max_size = 2M").settings.hashMaxSize, 2 << 20)
    }

    func testShadowedAndDuplicateRulesAreWarned() throws {
        let p = try parse("""
        deny perm=any uid=0,1 : dir=/srv/
        deny perm=open uid=0 : path=/srv/a
        allow perm=any uid=0,1 : dir=/srv/
        allow perm=open uid=2 : path=/srv/a
        deny perm=any uid=0,1 : dir=/srv/
        """)
        XCTAssertEqual(p.warnings.map(\.description), [
            "policy:2:1: warning: never matches: rule 1 (policy:1) matches everything this rule does, first",
            "policy:3:1: warning: never matches: rule 1 (policy:1) matches everything this rule does, first",
            "policy:5:1: warning: duplicate of rule 1 (policy:1)",
        ])
    }

    func testIncludesAndPolicyDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fanfilter-policy-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("policy.d"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: dir.appendingPathComponent(name), atomically: false, encoding: .utf8)
            chmod(dir.appendingPathComponent(name).path, 0o644)
        }
        try write("main", "workers = 2\ninclude = extra\ndeny all : path=/main\n")
        try write("extra", "deny all : path=/extra\n")
        try write("policy.d/20-b.policy", "deny all : path=/b\n")
        try write("policy.d/10-a.policy", "deny all : path=/a\nworkers = 3\n")
        try write("policy.d/ignored.txt", "garbage\n")
        let main = dir.appendingPathComponent("main").path
        XCTAssertThrowsError(try Policy.load(path: main, ownership: .ignore)) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/policy.d/10-a.policy:2:1: error: 'workers' is already set at \(main):1")
        }
        try write("policy.d/10-a.policy", "deny all : path=/a\n")
        let p = try Policy.load(path: main, ownership: .ignore)
        XCTAssertEqual(p.rules.map { printable($0.location.file.split(separator: "/").last!.utf8) }, ["extra", "main", "10-a.policy", "20-b.policy"])
        XCTAssertEqual(p.rules.map(\.number), [1, 2, 3, 4])
        try write("extra", "include = main\n")
        XCTAssertThrowsError(try Policy.load(path: main, ownership: .ignore)) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/extra:1:11: error: '\(dir.path)/main' includes itself")
        }
        try write("extra", "deny all : path=relative\n")
        XCTAssertThrowsError(try Policy.load(path: main, ownership: .ignore)) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/extra:1:17: error: 'relative' is not an absolute path (it must start with /)")
        }
        try write("main", "include = missing\n")
        XCTAssertThrowsError(try Policy.load(path: main, ownership: .ignore)) { error in
            XCTAssertEqual("\(error)", "\(main):1:11: error: cannot include '\(dir.path)/missing': cannot open the policy: No such file or directory")
        }
    }

    /// The checks compare the file's owner with root: run by another user, the test's own file is refused for its owner first.
    func testStrictModes() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fanfilter-strict-\(getpid())").path
        try "deny all : all\n".write(toFile: file, atomically: false, encoding: .utf8)
        defer { unlink(file) }
        chmod(file, 0o666)
        XCTAssertThrowsError(try Policy.load(path: file)) { error in
            XCTAssertEqual("\(error)", "\(file):0:0: error: refusing it: " + (getuid() == 0
                ? "the policy file is writable by group or others (mode 666); chmod go-w \(file)"
                : "the policy file is owned by uid \(getuid()), not root (chown root \(file))"))
        }
        let warned = try Policy.load(path: file, ownership: .warn)
        XCTAssertEqual(warned.warnings.map(\.severity), [.warning])
        chmod(file, 0o644)
        if getuid() == 0 {
            chown(file, 1000, 0)
            XCTAssertThrowsError(try Policy.load(path: file)) { error in
                XCTAssertEqual("\(error)", "\(file):0:0: error: refusing it: the policy file is owned by uid 1000, not root (chown root \(file))")
            }
        }
    }

    func testExplainSaysWhyEachRuleDidNotMatch() throws {
        let p = try parse("""
        deny perm=execute all : all
        deny uid=0 : path=/x
        allow_log all : dir=/srv/
        """)
        let (decision, tried) = p.explain(facts(path: "/srv/file"))
        XCTAssertEqual(decision.rule?.number, 3)
        XCTAssertEqual(tried.map(\.reason), [
            "perm=execute does not cover open",
            "uid is 1000, and the rule wants uid=0",
        ])
    }

    /// The index must decide exactly as a linear scan: random policies, random requests.
    func testIndexedDecisionsEqualALinearScan() throws {
        var rng = SeededGenerator(seed: 0xFA_F1)
        let dirs = ["/", "/srv/", "/srv/a/", "/srv/a/b/", "/tmp/", "/etc/"]
        let names = ["x", "y", "z.sh", "payroll.csv"]
        for _ in 0..<200 {
            var text = ""
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                let decision = ["allow", "deny", "allow_log", "deny_log"].randomElement(using: &rng)!
                let perm = ["open", "execute", "any"].randomElement(using: &rng)!
                var subject = ["all", "uid=\(Int.random(in: 0...2, using: &rng))", "uid!=1", "comm=cat,ls"].randomElement(using: &rng)!
                if Bool.random(using: &rng) { subject = subject == "all" ? "all" : subject + " gid=\(Int.random(in: 0...2, using: &rng))" }
                let d = dirs.randomElement(using: &rng)!, n = names.randomElement(using: &rng)!
                let object = ["all", "path=\(d)\(n)", "dir=\(d)", "path=\(d)\(n),\(dirs.randomElement(using: &rng)!)\(n)",
                              "path=glob:\(d)*.sh", "path=glob:\(d)**", "dir!=\(d)", "path!=\(d)\(n)",
                              "size>50 dir=\(d)"].randomElement(using: &rng)!
                text += "\(decision) perm=\(perm) \(subject) : \(object)\n"
            }
            let p = try parse(text)
            for _ in 0..<50 {
                let path = dirs.randomElement(using: &rng)! + (Bool.random(using: &rng) ? "" : "a/") + names.randomElement(using: &rng)!
                let r = facts(Bool.random(using: &rng) ? .open : .execute, path: Int.random(in: 0..<20, using: &rng) == 0 ? nil : path,
                              uid: UInt32.random(in: 0...2, using: &rng), gid: UInt32.random(in: 0...2, using: &rng),
                              comm: ["cat", "ls", "sh"].randomElement(using: &rng)!, size: UInt64.random(in: 0...100, using: &rng))
                XCTAssertEqual(p.decide(r), p.decideLinearly(r), "\(text)\n\(r)")
            }
        }
    }
}

/// A reproducible random number generator (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class MoreErrorMessageTests: XCTestCase {
    func testErrorMessagesOfTheFullLanguage() {
        XCTAssertEqual(errors("%admins\u{01}\0\0\0000"), ["1:9: a NUL byte in the line (a policy is text; no value can hold one)"], "found by the fuzzer")
        XCTAssertEqual(errors("%a"), ["1:1: the set '%a' needs values"])
        XCTAssertEqual(errors("%a b=1"), ["1:1: the set '%a' needs values"])
        XCTAssertEqual(errors("%=1"), ["1:1: a set name is letters, digits, '_' and '-' after '%'"])
        XCTAssertEqual(errors("%a=1 2"), ["1:6: unexpected '2' after the values of '%a'"])
        XCTAssertEqual(errors("deny all : perm=open"), ["1:12: 'perm' belongs before the ':'"])
        XCTAssertEqual(errors("deny all : path=glob:/a/[z-a]"), ["1:26: the range in a character class runs backwards"])
        XCTAssertEqual(errors("deny sessionid=x : all"), ["1:16: 'x' is not a session id"])
        XCTAssertEqual(errors("deny ppid=0 : all"), ["1:11: '0' is not a process id"])
        XCTAssertEqual(errors("default = maybe"), ["1:11: 'maybe' is not allow or deny"])
        XCTAssertEqual(errors("log_rate = 0"), ["1:12: '0' is not a whole number from 1 to 1000000"])
        XCTAssertEqual(errors("cache = lru"), ["1:9: unknown cache 'lru' (expected kernel, user or off)"])
        XCTAssertEqual(errors("cache_size = 0"), ["1:14: '0' is not a whole number from 1 to 16777216"])
        XCTAssertEqual(errors("deny all : size=-1"), ["1:17: '-1' is not a size (bytes, or a whole number with K, M or G)"])
    }
}
