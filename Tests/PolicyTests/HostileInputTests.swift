import Foundation
import Glibc
@testable import Policy
import XCTest

/// Regressions from the attack on the policy loader: devices, FIFOs and
/// include fan-outs are refused in bounded time and memory, with a location;
/// odd bytes get a clear error; loading is near-linear in the rule count.
final class HostileInputTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/fanfilter-hostile.XXXXXX".utf8CString)
        guard let d = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        dir = String(cString: d)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func write(_ name: String, _ text: String) {
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644])
    }

    private func loadError(_ path: String) -> String {
        do {
            _ = try Policy.load(path: path, ownership: .ignore)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    func testDevicesAreRefusedDirectlyThroughALinkAndAsADropIn() throws {
        XCTAssertEqual(loadError("/dev/zero"), "/dev/zero:0:0: error: not a regular file (a character device): a policy is read only from a regular file")
        XCTAssertEqual(symlink("/dev/zero", dir + "/link"), 0)
        XCTAssertTrue(loadError(dir + "/link").hasSuffix("error: not a regular file (a character device): a policy is read only from a regular file"))
        write("main", "watch = /srv\n")
        try FileManager.default.createDirectory(atPath: dir + "/policy.d", withIntermediateDirectories: true)
        XCTAssertEqual(symlink("/dev/urandom", dir + "/policy.d/x.policy"), 0)
        XCTAssertEqual(loadError(dir + "/main"), "\(dir)/policy.d/x.policy:0:0: error: not a regular file (a character device): a policy is read only from a regular file")
        XCTAssertNil(Policy.sourceLine(SourceLocation(file: "/dev/zero", line: 1, column: 1)), "caret lines never read a device")
    }

    func testAFIFOIsRefusedWithoutWaitingForAWriter() {
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o644), 0)
        XCTAssertEqual(loadError(dir + "/fifo"), "\(dir)/fifo:0:0: error: not a regular file (a FIFO): a policy is read only from a regular file")
        write("main", "include = fifo\n")
        XCTAssertEqual(loadError(dir + "/main"), "\(dir)/main:1:11: error: cannot include '\(dir)/fifo': not a regular file (a FIFO): a policy is read only from a regular file")
    }

    func testAnIncludeFanOutIsBounded() {
        // f0 includes f1 ten times, f1 includes f2 ten times, … : 10^8 leaves unbounded.
        for level in 0..<8 {
            write("f\(level)", String(repeating: "include = f\(level + 1)\n", count: 10))
        }
        write("f8", "deny all : path=/x\n")
        let error = loadError(dir + "/f0")
        XCTAssertTrue(error.contains("error: the policy reads more than 10000 files (is a file included many times over?)"), error)
        XCTAssertEqual(error.split(separator: "\n").count, 1, "one error, then nothing more is read")
    }

    func testRawNULByteOrderMarkAndSignedNumbers() throws {
        XCTAssertEqual(errors("deny all : path=/a\u{0}b"), ["1:19: a NUL byte in the line (a policy is text; no value can hold one)"])
        let p = try Policy.parse(Array("\u{FEFF}watch = /srv\ndeny all : path=/a\n".utf8), file: "bom")
        XCTAssertEqual(p.agent.watch, [Array("/srv".utf8)])
        XCTAssertEqual(p.warnings.map(\.description), ["bom:1:1: warning: a UTF-8 byte-order mark at the start of the file is ignored"])
        XCTAssertEqual(errors("workers = +4"), ["1:11: '+4' is not a whole number from 1 to 256"])
        XCTAssertEqual(errors("hash_max_size = +4M"), ["1:17: '+4M' is not a size (bytes, or a whole number with K, M or G)"])
        XCTAssertEqual(errors("deny all : size>+4"), ["1:17: '+4' is not a size (bytes, or a whole number with K, M or G)"])
    }

    func testAPolicyThatWatchesNothingIsWarned() throws {
        XCTAssertNotNil(try Policy.parse([], file: "empty").watchesNothingWarning)
        XCTAssertNil(try Policy.parse(Array("watch = /srv\n".utf8), file: "p").watchesNothingWarning)
    }

    func testFilesTheKernelCannotSeeAreWarned() throws {
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o644), 0)
        write("plain", "")
        let p = try Policy.parse(Array("deny all : dir=\(dir)/\ndeny all : path=/dev/null\ndeny all : path=\(dir)/plain\n".utf8), file: "p")
        XCTAssertEqual(p.specialFileWarnings().map(\.description), [
            "p:1:1: warning: \(dir)/fifo is a FIFO: the kernel raises no permission event for FIFOs, sockets or device nodes, so no rule decides their opens",
            "p:2:1: warning: /dev/null is a character device: the kernel raises no permission event for FIFOs, sockets or device nodes, so no rule decides their opens",
        ])
    }

    /// The indexed shadow check finds what comparing every pair finds.
    func testTheShadowIndexAgreesWithComparingEveryPair() throws {
        var rng = SeededGenerator(seed: 7)
        let dirs = ["/srv/", "/srv/a/", "/srv/a/b/", "/srv/c/", "/opt/"]
        for _ in 0..<40 {
            var text = ""
            for _ in 0..<60 {
                let perm = ["open", "execute", "any"][Int(rng.next() % 3)]
                var subject = ["all", "uid=0", "uid=1000", "uid=0,1000", "exe_dir=/usr/bin/", "exe=/usr/bin/cat", "uid!=0"][Int(rng.next() % 7)]
                if subject != "all", rng.next() % 4 == 0 { subject += " comm=cat" }
                let d = dirs[Int(rng.next() % UInt64(dirs.count))]
                let object = ["all", "dir=\(d)", "path=\(d)x", "path=\(d)x,\(d)y", "dir=\(d) size>10", "path=glob:\(d)*.sh"][Int(rng.next() % 6)]
                text += "\(["allow", "deny"][Int(rng.next() % 2)]) perm=\(perm) \(subject) : \(object)\n"
            }
            let rules = try Policy.parse(Array(text.utf8), file: "p").rules
            var index = ShadowIndex()
            for (j, later) in rules.enumerated() {
                let brute = rules[..<j].firstIndex { $0.covers(later) }
                let (candidates, complete) = index.candidates(covering: later)
                XCTAssertTrue(complete)
                XCTAssertEqual(candidates.first { rules[$0].covers(later) }, brute, "rule \(j + 1) of\n\(text)")
                index.add(j, later)
            }
        }
    }

    private func errors(_ text: String) -> [String] {
        do {
            _ = try Policy.parse(Array(text.utf8), file: "policy")
            return []
        } catch {
            return error.diagnostics.filter { $0.severity == .error }.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        }
    }
}
