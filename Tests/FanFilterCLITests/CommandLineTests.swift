import Foundation
import Glibc
import TestSupport
import XCTest

/// `fanfilter check`, `explain` and `rules`: what an administrator reads.
final class CommandLineTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "fanfilter-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func policyFile(_ text: String, mode: mode_t = 0o644) throws -> String {
        let path = dir + "/policy"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    func run(_ args: [String]) -> Child.Result {
        Child([fanfilterPath] + args, mergeStderr: true).wait()
    }

    /// What `check` says of a file this test's user owns: nothing as root, a warning otherwise.
    func ownershipWarning(_ file: String) -> [String] {
        getuid() == 0 ? [] : ["\(file):0:0: warning: the policy file is owned by uid \(getuid()), not root (chown root \(file))"]
    }

    func testCheckPrintsEveryErrorWithACaretAndASummary() throws {
        let bad = try policyFile("workers = 0\ndeny all all\n")
        let r = run(["check", bad])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.lines.map(String.init), ownershipWarning(bad) + [
            "\(bad):1:11: error: '0' is not a whole number from 1 to 256",
            "    workers = 0",
            "              ^",
            "\(bad):2:13: error: missing ':' between the subject and the object",
            "    deny all all",
            "                ^",
            "\(bad): 2 errors" + (getuid() == 0 ? "" : ", 1 warning"),
        ])
        let ok = run(["check"])
        XCTAssertEqual(ok.status, 0)
        XCTAssertTrue(ok.output.hasPrefix("<built-in default policy>: ok: 3 rules"), ok.output)
    }

    func testCheckWarningsStrictAndJSON() throws {
        let file = try policyFile("deny all : dir=/srv\ndeny all : dir=/srv/x/\n", mode: 0o664)
        let r = run(["check", file])
        XCTAssertEqual(r.status, 0, "warnings alone pass without --strict")
        XCTAssertEqual(r.lines.map(String.init), [
            "\(file):0:0: warning: the policy watches nothing (no watch, watch_mount or watch_fs setting): fanfilter would see no access",
        ] + (getuid() == 0 ? ["\(file):0:0: warning: the policy file is writable by group or others (mode 664); chmod go-w \(file)"]
                            : ownershipWarning(file)) + [
            "\(file):1:16: warning: '/srv' has no trailing '/': taken as the directory /srv/",
            "    deny all : dir=/srv",
            "                   ^",
            "\(file):2:1: warning: never matches: rule 1 (\(file):1) matches everything this rule does, first",
            "    deny all : dir=/srv/x/",
            "    ^",
            "\(file): ok: 2 rules, 0 watched paths, mode enforce, 4 workers, reply_timeout 0.25 seconds, on_timeout allow, queue_size 4096, on_overload allow; 4 warnings",
        ])
        XCTAssertEqual(run(["check", "--strict", file]).status, 2)
        let json = run(["check", "--json", file])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["ok"] as? Bool, true)
        XCTAssertEqual(object["rules"] as? Int, 2)
        let diagnostics = try XCTUnwrap(object["diagnostics"] as? [[String: Any]])
        XCTAssertEqual(diagnostics.map { $0["line"] as? Int }, [0, 0, 1, 2])
        XCTAssertEqual(diagnostics.map { $0["severity"] as? String }, ["warning", "warning", "warning", "warning"])
        let broken = try policyFile("mode = x\n")
        let jsonErrors = run(["check", "--json", broken])
        XCTAssertEqual(jsonErrors.status, 1)
        XCTAssertTrue(jsonErrors.output.contains("\"message\":\"unknown mode 'x' (expected enforce, permissive or observe)\""), jsonErrors.output)
    }

    func testRunRefusesAPolicyFileOthersCanWrite() throws {
        let file = try policyFile("allow all : all\n", mode: 0o666)
        let r = run(["run", "--policy", file])
        XCTAssertEqual(r.status, 78)
        // Not root, this test's user owns the file: that is refused first.
        XCTAssertEqual(r.lines.first.map(String.init), "\(file):0:0: error: refusing it: " + (getuid() == 0
            ? "the policy file is writable by group or others (mode 666); chmod go-w \(file)"
            : "the policy file is owned by uid \(getuid()), not root (chown root \(file))"))
    }

    /// fanfilterd, the unit's program: run's options and exit statuses without the CLI's parser.
    func testTheDaemonTakesRunsOptionsAndNamesWhatItDoesNot() throws {
        let file = try policyFile("allow all : all\n", mode: 0o666)
        let refused = Child([fanfilterdPath, "--policy", file, "--log-target", "stderr"], mergeStderr: true).wait()
        XCTAssertEqual(refused.status, 78, refused.output)
        XCTAssertEqual(refused.lines.last.map(String.init), "fanfilter: refusing to start: the policy has errors")
        let unknown = Child([fanfilterdPath, "run", "--policy", file], mergeStderr: true).wait()
        XCTAssertEqual(unknown.status, 64)
        XCTAssertEqual(unknown.output, "fanfilterd: unexpected argument run (fanfilterd --help lists the options)\n")
        let help = Child([fanfilterdPath, "--help"]).wait()
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.output.hasPrefix("OVERVIEW: "), help.output)
        let version = Child([fanfilterdPath, "--version"]).wait()
        XCTAssertEqual(version.output, run(["--version"]).output)
    }

    func testExplainShowsTheDecidingRuleAndWhyEarlierRulesDidNotMatch() throws {
        let file = try policyFile("""
        deny_log perm=execute all : dir=/srv/data/uploads/
        deny perm=open uid=1000 : path=/srv/data/payroll.csv
        allow perm=any exe=/usr/bin/rsync : all
        """)
        let r = run(["explain", "--policy", file, "--uid", "1000", "--exe", "/usr/bin/cat", "/srv/data/payroll.csv"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.lines.map(String.init), [
            "open /srv/data/payroll.csv by exe=/usr/bin/cat uid=1000",
            "decision: deny, by rule 2 at \(file):2",
            "    deny perm=open uid=1000 : path=/srv/data/payroll.csv",
            "rules tried before it:",
            "  rule 1 at \(file):1: perm=execute does not cover open",
            "    deny_log perm=execute all : dir=/srv/data/uploads/",
        ])
        let link = dir + "/ls-link"
        symlink("/usr/bin/ls", link)
        let none = run(["explain", "--policy", file, "--perm", "execute", link])
        XCTAssertEqual(Array(none.lines.prefix(4)).map(String.init), [
            "execute \(link) (the kernel names it /usr/bin/ls)",
            "decision: allow, as no rule matched (default = allow)",
            "rules tried before it:",
            "  rule 1 at \(file):1: path is /usr/bin/ls, and the rule wants dir=/srv/data/uploads/",
        ])
        XCTAssertTrue(none.output.contains("  rule 3 at \(file):3: exe is not known, and the rule wants exe=/usr/bin/rsync"), none.output)
        XCTAssertEqual(run(["explain", "--policy", file, "--perm", "write", "/x"]).status, 64)
    }

    func testRulesListsTheCompiledRulesNumbered() throws {
        let file = try policyFile("workers = 2\n# comment\ndeny all : path=/a   # why\nallow uid=0 : all\n")
        let r = run(["rules", "--policy", file])
        XCTAssertEqual(r.lines.map(String.init), [
            "1  \(file):3  deny all : path=/a",
            "2  \(file):4  allow uid=0 : all",
        ])
    }

    /// Regressions from the attack on the command line: each bad argument gets
    /// its own message and the subcommand's usage, devices never hang explain.
    func testBadArgumentsSayWhatWasWrong() throws {
        func error(_ args: [String]) -> String {
            let r = run(args)
            XCTAssertEqual(r.status, 64, args.joined(separator: " ") + ": " + r.output)
            XCTAssertTrue(r.output.contains("Usage: fanfilter \(args[0])"), r.output)
            return r.lines.first.map(String.init) ?? ""
        }
        XCTAssertEqual(error(["explain", "--perm", "write", "/x"]), "Error: The value 'write' is invalid for '--perm <open|execute>'. Please provide one of 'open' and 'execute'.")
        XCTAssertEqual(error(["explain", "--uid", "no-such-user-here", "/x"]), "Error: --uid: no user named 'no-such-user-here' on this machine (give a name it knows, or a number)")
        XCTAssertEqual(error(["explain", "--pid", "-1", "/x"]), "Error: --pid takes a process id, 1 or more (got -1)")
        XCTAssertEqual(error(["explain", "relative/path"]), "Error: the path must be absolute, as the kernel reports it (got 'relative/path')")
        XCTAssertEqual(error(["explain", ""]), "Error: the path must be absolute, as the kernel reports it (got '')")
        let version = run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.output.first?.isNumber ?? false, version.output)
    }

    func testExplainOnADeviceAnswersAndRulesTakesAFile() throws {
        for device in ["/dev/zero", "/dev/urandom"] {
            let r = Child([fanfilterPath, "explain", device], mergeStderr: true).wait(timeout: .seconds(10))
            XCTAssertFalse(r.hung, "explain \(device) hung")
            XCTAssertEqual(r.lines.first.map(String.init), "open \(device)")
        }
        let file = try policyFile("deny all : path=/srv/a\n")
        let r = run(["rules", file])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.output, "1  \(file):1  deny all : path=/srv/a\n")
    }
}

/// The binary stays free of Foundation: linked in, it costs the agent about
/// 3 MiB resident (measured when it crept in with `fanfilter trust`'s rpm runner).
final class FoundationFreeTests: XCTestCase {
    func testNoSourceImportsFoundation() throws {
        let sources = testsFolder + "/../Sources"
        let enumerator = FileManager.default.enumerator(atPath: sources)
        var importing: [String] = []
        while let name = enumerator?.nextObject() as? String {
            guard name.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: sources + "/" + name, encoding: .utf8)
            if text.split(separator: "\n").contains(where: { $0.hasPrefix("import Foundation") || $0.hasPrefix("@_exported import Foundation") }) {
                importing.append(name)
            }
        }
        XCTAssertEqual(importing, [])
    }
}
