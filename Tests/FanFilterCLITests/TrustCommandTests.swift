import Foundation
import Glibc
import TestSupport
import XCTest

/// `fanfilter trust update|add|check|list|remove` on a database and trust
/// file of the test's own (dpkg's records pointed at an empty folder).
final class TrustCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "fanfilter-trustcli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/dpkg", withIntermediateDirectories: true)
        try "trust_db = \(dir)/db/trust.mdb\nintegrity = sha256\n".write(toFile: dir + "/policy", atomically: false, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func trust(_ args: [String]) -> Child.Result {
        Child([fanfilterPath, "trust"] + args + ["--policy", dir + "/policy"], mergeStderr: true).wait()
    }

    var files: [String] { ["--trust-file", dir + "/trust", "--trust-folder", dir + "/trust.d", "--dpkg-info", dir + "/dpkg", "--rpm", "none"] }

    func testAddCheckListRemove() throws {
        let tool = dir + "/tool"
        try "#!/bin/sh\necho hi\n".write(toFile: tool, atomically: false, encoding: .utf8)
        let added = trust(["add", tool] + files)
        XCTAssertEqual(added.status, 0, added.output)
        let digest = Child(["/usr/bin/sha256sum", tool]).wait().output.prefix(64)
        XCTAssertTrue(added.output.hasPrefix("added: \(tool) 18 \(digest)\n"), added.output)
        XCTAssertTrue(added.output.contains("\(dir)/db/trust.mdb: 1 files (dpkg 0, trust files 1)"), added.output)
        XCTAssertEqual(try String(contentsOfFile: dir + "/trust", encoding: .utf8), "\(tool) 18 \(digest)\n")

        try "trust_db = \(dir)/db/trust.mdb\nintegrity = sha256\ndeny perm=execute all : ftype=text/x-shellscript trust=1\n"
            .write(toFile: dir + "/policy", atomically: false, encoding: .utf8)
        let explained = Child([fanfilterPath, "explain", "--policy", dir + "/policy", "--perm", "execute", tool], mergeStderr: true).wait()
        XCTAssertTrue(explained.output.contains("the file: ftype=text/x-shellscript trust=1\ndecision: deny, by rule 1"), explained.output)
        let checked = trust(["check", tool])
        XCTAssertEqual(checked.status, 0, checked.output)
        XCTAssertTrue(checked.output.hasSuffix("integrity = sha256: trusted\n"), checked.output)
        XCTAssertEqual(trust(["list", "--source", "file"]).output, "\(tool) file 18 \(digest)\n")
        XCTAssertEqual(trust(["list", "--source", "dpkg"]).output, "")

        try "#!/bin/sh\necho HI\n".write(toFile: tool, atomically: false, encoding: .utf8)
        let changed = trust(["check", tool])
        XCTAssertEqual(changed.status, 1)
        XCTAssertTrue(changed.output.hasSuffix("integrity = sha256: NOT trusted\n"), changed.output)

        XCTAssertEqual(trust(["remove", tool] + files).status, 0)
        let gone = trust(["check", tool])
        XCTAssertEqual(gone.status, 1)
        XCTAssertTrue(gone.output.contains("not listed in \(dir)/db/trust.mdb"), gone.output)
        XCTAssertEqual(trust(["remove", tool] + files).status, 1, "nothing left to remove")
    }

    func testBadTrustLinesAreNamedAndSkipped() throws {
        try FileManager.default.createDirectory(atPath: dir + "/trust.d", withIntermediateDirectories: true)
        try "/a 1 \(String(repeating: "0", count: 64))\n/b x y\n".write(toFile: dir + "/trust.d/extra", atomically: false, encoding: .utf8)
        let r = trust(["update"] + files)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("fanfilter trust: \(dir)/trust.d/extra:2: 'x' is not a size in bytes (line skipped)"), r.output)
        XCTAssertTrue(r.output.contains("1 files (dpkg 0, trust files 1)"), r.output)
        XCTAssertEqual(trust(["list", "--source", "nope"]).status, 64)
        XCTAssertEqual(Child([fanfilterPath, "trust", "list", "--policy", "/nonexistent"], mergeStderr: true).wait().status, 2)
    }

    func testTheRPMDatabaseThroughRpm() throws {
        let lib = dir + "/libx.so"
        try "library".write(toFile: lib, atomically: false, encoding: .utf8)
        let md5 = String(repeating: "1", count: 32)
        // A stand-in for rpm: what `rpm -qa --queryformat` prints for two files, one a folder.
        let fake = dir + "/rpm"
        try "#!/bin/sh\n[ \"$1\" = -qa ] || exit 3\nprintf '\(lib)\\t7\\t33188\\t1\\t\(md5)\\n\(dir)\\t4096\\t16877\\t8\\t\\n'\n"
            .write(toFile: fake, atomically: false, encoding: .utf8)
        chmod(fake, 0o755)
        let r = trust(["update", "--trust-file", dir + "/trust", "--trust-folder", dir + "/trust.d", "--dpkg-info", dir + "/dpkg", "--rpm", fake])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("1 files (dpkg 0, rpm 1, trust files 0)"), r.output)
        XCTAssertEqual(trust(["list", "--source", "rpm"]).output, "\(lib) rpm 7 \(md5)\n")
        try "#!/bin/sh\nexit 1\n".write(toFile: fake, atomically: false, encoding: .utf8)
        let failed = trust(["update", "--trust-file", dir + "/trust", "--trust-folder", dir + "/trust.d", "--dpkg-info", dir + "/dpkg", "--rpm", fake])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.output.contains("-qa failed (exit 1): the RPM database was not read"), failed.output)
    }
}
