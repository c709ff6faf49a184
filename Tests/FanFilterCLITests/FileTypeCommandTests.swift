import Foundation
import Glibc
import TestSupport
import XCTest

/// `fanfilter ftype` against fapolicyd's own answer (`fapolicyd-cli --ftype`,
/// from Debian's fapolicyd, which make test installs) over this machine's
/// programs, libraries, scripts and configuration files.
final class FileTypeCommandTests: XCTestCase {
    /// Where fanfilter follows fapolicyd 2.0 and the installed 1.1.7 asks libmagic instead.
    static let knownDifferences: [(fapolicyd: String, fanfilter: String, why: String)] = [
        ("text/x-script.python", "text/x-python", "fapolicyd 2.0 names a python #! line text/x-python, as its rules expect"),
        ("text/plain", "application/x-empty", "a /proc file reports size 0: fapolicyd 2.0 calls a size-0 file empty"),
        ("application/x-executable", "application/x-sharedlib",
         "a shared object with a program interpreter and no DF_1_PIE (glibc's libc.so.6) is what dlopen loads"),
    ]

    func files() -> [String] {
        // Debian's libc carries a program interpreter: the typing of such a library is compared too.
        var found: [String] = ["/usr/lib/x86_64-linux-gnu/libc.so.6"].filter { Glibc.access($0, R_OK) == 0 }
        for folder in ["/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/python3.11", "/usr/share/perl5", "/etc"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names.sorted().prefix(200) {
                var st = stat()
                let path = folder + "/" + name
                if stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(path, R_OK) == 0 { found.append(path) }
            }
        }
        return found
    }

    func testEveryFileGetsFapolicydsType() throws {
        XCTAssertEqual(access("/usr/sbin/fapolicyd-cli", X_OK), 0, "make test installs fapolicyd")
        let paths = files()
        XCTAssertGreaterThan(paths.count, 300)
        let ours = Child([fanfilterPath, "ftype"] + paths).wait(timeout: .seconds(120))
        XCTAssertEqual(ours.status, 0, ours.output)
        var differences: [String] = []
        for (path, line) in zip(paths, ours.lines) {
            XCTAssertTrue(line.hasPrefix(path + ": "), String(line))
            let mine = String(line.dropFirst(path.count + 2))
            let theirs = Child(["/usr/sbin/fapolicyd-cli", "--ftype", path]).wait(timeout: .seconds(10)).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if mine != theirs, !Self.knownDifferences.contains(where: { $0.fapolicyd == theirs && $0.fanfilter == mine }) {
                differences.append("\(path): fapolicyd \(theirs), fanfilter \(mine)")
            }
        }
        XCTAssertEqual(differences, [])
    }

    func testAFileThatCannotBeReadIsNamed() {
        let r = Child([fanfilterPath, "ftype", "/nonexistent/x", "/dev/null"], mergeStderr: true).wait()
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("fanfilter ftype: open /nonexistent/x: No such file or directory (errno 2)"), r.output)
        XCTAssertTrue(r.output.contains("/dev/null: inode/chardevice"), r.output)
    }
}
