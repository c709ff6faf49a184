import Policy
import XCTest

/// fapolicyd's rule language as its administrators write it: the Debian
/// package's own rule files, its other spellings, macros and attributes.
final class FapolicydRulesTests: XCTestCase {
    static let samples = "/usr/share/fapolicyd/sample-rules"

    func sampleFiles() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.samples).filter { $0.hasSuffix(".rules") }
        XCTAssertGreaterThan(names.count, 10, "make test installs fapolicyd for its sample rules")
        return names.sorted()
    }

    func check(_ text: String) throws -> Policy {
        let dir = NSTemporaryDirectory() + "fanfilter-fapolicyd-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/p.policy"))
        return try Policy.load(path: dir + "/p.policy", ownership: .ignore)
    }

    func testEverySampleRuleFilePassesCheckAfterTheSetsItUses() throws {
        for name in try sampleFiles() {
            do {
                // Alone, after the set definitions it uses (10-languages.rules defines %languages).
                let sets = name == "10-languages.rules" ? "" : "include = \(Self.samples)/10-languages.rules\n"
                let p = try check(sets + "include = \(Self.samples)/\(name)\n")
                XCTAssertFalse(p.warnings.contains { $0.severity == .error }, name)
            } catch let error as PolicyError {
                XCTFail("\(name): \(error.diagnostics.filter { $0.severity == .error })")
            }
        }
    }

    func testTheSampleFolderInFagenrulesOrder() throws {
        let p = try check("rules_dir = \(Self.samples)\n")
        // 10-languages defines the set 70-trusted-lang uses; the order is the files' natural order.
        let files = p.rules.map { ($0.location.file as NSString).lastPathComponent }
        XCTAssertEqual(files, files.sorted())
        XCTAssertEqual(p.rules.first?.location.file, "\(Self.samples)/20-dracut.rules")
    }

    func testNaturalOrderOfRuleFiles() throws {
        let dir = NSTemporaryDirectory() + "fanfilter-order-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/rules.d", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, rule) in [("9-a.rules", "allow all : path=/a"), ("10-b.rules", "allow all : path=/b"),
                             ("010-c.rules", "allow all : path=/c"), ("2-x.txt", "not a rule")] {
            try Data(rule.utf8).write(to: URL(fileURLWithPath: "\(dir)/rules.d/\(name)"))
        }
        try Data("rules_dir = rules.d\n".utf8).write(to: URL(fileURLWithPath: dir + "/p.policy"))
        let p = try Policy.load(path: dir + "/p.policy", ownership: .ignore)
        XCTAssertEqual(p.rules.map(\.text), ["allow all : path=/a", "allow all : path=/b", "allow all : path=/c"])
        XCTAssertEqual(errors("rules_dir = /nonexistent"), ["1:13: rules_dir '/nonexistent' is not a folder"])
        // `include` of a folder with no *.policy file reads its *.rules files the same way.
        try Data("include = rules.d\n".utf8).write(to: URL(fileURLWithPath: dir + "/p.policy"))
        XCTAssertEqual(try Policy.load(path: dir + "/p.policy", ownership: .ignore).rules.map(\.text),
                       ["allow all : path=/a", "allow all : path=/b", "allow all : path=/c"])
    }

    func testSubjectSpellings() throws {
        let p = try parse("""
        deny dir=/opt/ : path=/a
        deny exe_type=application/x-executable device=/dev/vda1 : path=/b
        allow trust=1 ftype=application/x-sharedlib : all
        """)
        XCTAssertEqual(p.rules[0].subject, [Test(.exeDir, .equal, [.prefix(Array("/opt/".utf8))])])
        XCTAssertEqual(p.rules[1].subject.map(\.attribute), [.exeType, .exeDevice])
        XCTAssertEqual(p.rules[2].subject.map(\.attribute), [.exeTrust, .exeType])
        XCTAssertEqual(p.rules[2].text, "allow trust=1 ftype=application/x-sharedlib : all")
        XCTAssertEqual(errors("deny all : pattern=ld_so"), ["1:12: 'pattern' is a subject attribute: put it before the ':'"])
        XCTAssertEqual(errors("deny all : ftype=x"), ["1:18: 'x' is not a MIME type (such as application/x-executable or text/x-python)"])
        XCTAssertEqual(errors("deny all : trust=2"), ["1:18: trust is 1 (trusted) or 0 (not trusted)"])
        XCTAssertEqual(errors("deny pattern=ld_so,static : all"), ["1:14: pattern takes one value (as in fapolicyd): write one rule for each"])
        XCTAssertEqual(errors("deny pattern=ld : all"), ["1:14: unknown pattern 'ld' (expected normal, ld_so, static, ld_preload)"])
        XCTAssertEqual(errors("integrity = md5"), ["1:13: unknown integrity 'md5' (expected none, size or sha256)"])
        XCTAssertEqual(try parse("integrity = sha256").settings.integrity, .sha256)
        let hash = String(repeating: "a", count: 64)
        XCTAssertEqual(try parse("deny all : filehash=\(hash)").rules[0].object, [Test(.sha256hash, .equal, [.bytes(Array(hash.utf8))])],
                       "fapolicyd 2.0's filehash")
        let sha512 = String(repeating: "b", count: 128)
        let p512 = try parse("deny all : filehash=\(sha512)")
        XCTAssertEqual(p512.rules[0].object, [Test(.sha512hash, .equal, [.bytes(Array(sha512.utf8))])], "128 digits: SHA-512")
        var r = request(path: "/x")
        r.object.sha256 = Array(String(repeating: "b", count: 64).utf8)
        XCTAssertNil(p512.decide(r).rule, "a SHA-512 test never reads the SHA-256")
        r.object.sha512 = Array(sha512.utf8)
        XCTAssertEqual(p512.decide(r).rule?.number, 1)
        XCTAssertEqual(errors("deny all : filehash=\(hash),\(sha512)"),
                       ["1:21: one filehash test compares SHA-256 digests (64 hex digits) or SHA-512 ones (128), not both: write a rule for each"])
        XCTAssertEqual(errors("deny all : filehash=\(String(repeating: "g", count: 128))"), ["1:21: a SHA-512 filehash is 128 hex digits"])
    }

    /// fapolicyd 2.0's QUOTED VALUES and PATH GLOBBING: a quoted `glob:`
    /// value is a glob; in quotes only \" and \\ are escapes (fanfilter adds
    /// \n \t \xHH), any other backslash is kept, and in a glob quotes the
    /// byte after it; a set's members may be quoted.
    func testFapolicyd2Quoting() throws {
        let p = try parse(#"""
        %spaced="/srv/first last/tool",/srv/plain,"/srv/q\"uote"
        allow perm=execute all : path="glob:/tmp/first last/*"
        allow perm=execute exe="glob:/tmp/first last/*" : all
        deny all : dir="/srv/first last/"
        deny all : path=%spaced
        deny all : path="/srv/back\slash\d"
        deny all : path=glob:/srv/lit/\*.so
        deny comm="glob:x" : all
        """#)
        func rule(_ path: String, exe: String = "/usr/bin/cat", comm: String = "cat", access: Access = .open) -> Int? {
            p.decide(request(access, path: path, comm: comm, exe: exe)).rule?.number
        }
        XCTAssertEqual(rule("/tmp/first last/tool", access: .execute), 1, "a quoted glob")
        XCTAssertEqual(rule("/x", exe: "/tmp/first last/tool", access: .execute), 2)
        XCTAssertEqual(rule("/srv/first last/file"), 3)
        XCTAssertEqual(rule("/srv/first last/tool"), 3)
        XCTAssertEqual(rule("/srv/plain"), 4, "a set with quoted members")
        XCTAssertEqual(rule("/srv/q\"uote"), 4)
        XCTAssertEqual(rule(#"/srv/back\slash\d"#), 5, #"\\ is one backslash, \d is kept as it is"#)
        XCTAssertEqual(rule("/srv/lit/*.so"), 6, "a backslash in a glob quotes the *")
        XCTAssertNil(rule("/srv/lit/a.so"))
        XCTAssertEqual(rule("/x", comm: "glob:x"), 7, "a quoted glob: on a name is the name itself")
        XCTAssertNil(rule("/x", comm: "x"))
    }

    func testDirectoryMacrosAndUntrusted() throws {
        let p = try parse("""
        deny_syslog all : dir=execdirs path=/usr/bin/x
        deny exe=untrusted : dir=systemdirs
        allow_syslog all : path=untrusted
        """)
        var r = request(path: "/usr/bin/x")
        XCTAssertEqual(p.decide(r).rule?.number, 1)
        XCTAssertTrue(p.decide(r).logs)
        r = request(path: "/etc/passwd")
        r.subject.exeTrusted = true
        r.object.trusted = false
        XCTAssertEqual(p.decide(r).rule?.number, 3, "a trusted exe opening an untrusted file")
        r.subject.exeTrusted = false
        XCTAssertEqual(p.decide(r).rule?.number, 2, "an untrusted exe in /etc/")
        r.subject.exeTrusted = nil
        r.object.trusted = nil
        XCTAssertEqual(p.decide(r).rule?.number, 2, "an executable of unknown trust counts as untrusted in a deny")
        r.subject.exeTrusted = true
        XCTAssertNil(p.decide(r).rule, "a file of unknown trust is not assumed untrusted")
        XCTAssertTrue(p.neededFacts(for: .open, path: Array("/etc/x".utf8)).isSuperset(of: [.exeTrust, .trust]))
    }

    func testPatternAndFileTypeFacts() throws {
        let p = try parse("""
        deny_audit perm=any pattern=ld_preload : all
        deny_audit perm=any pattern=ld_so : all
        allow perm=execute all : ftype=application/x-executable trust=1
        """)
        var r = request(.execute, path: "/srv/x")
        r.subject.pattern = [.normal, .ldPreload]
        XCTAssertEqual(p.decide(r).rule?.number, 1)
        r.subject.pattern = .ldSo
        XCTAssertEqual(p.decide(r).rule?.number, 2)
        r.subject.pattern = .normal
        r.object.ftype = Array("application/x-executable".utf8)
        r.object.trusted = true
        XCTAssertEqual(p.decide(r).rule?.number, 3)
        r.object.trusted = false
        XCTAssertNil(p.decide(r).rule)
        XCTAssertEqual(p.explain(r).tried.last?.reason, "trust is 0, and the rule wants trust=1")
        XCTAssertEqual(p.rules[1].subject.description, "[pattern=ld_so]")
    }

    func testNamesThisMachineLacksAreWarnings() throws {
        let p = try parse("allow perm=any uid=no-such-user-here : all\nallow perm=execute all : path= trust=1")
        XCTAssertEqual(p.warnings.filter { $0.message.contains("names nothing") }.map(\.location.line), [1, 2])
        XCTAssertNil(p.decide(request(path: "/x", uid: 0)).rule)
        let ld = try parse("allow perm=execute all : path=%ld_so_path% trust=1")
        guard case .bytes(let path)? = ld.rules[0].object[0].values.first else { return XCTFail("no path") }
        XCTAssertEqual(access(String(decoding: path, as: UTF8.self), F_OK), 0, "the runtime linker of this machine")
    }
}
