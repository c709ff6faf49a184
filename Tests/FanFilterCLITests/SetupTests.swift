import Foundation
import Glibc
import TestSupport
import XCTest

/// tools/deps.sh, the step `make run` and `make test` take first, on simulated
/// machines: a `pkg-config` that cannot find libsystemd, no apt-get, not root.
/// Nothing is installed: the plan is checked with --dry-run, and the refusals
/// stop before apt-get would run.
final class SetupTests: XCTestCase {
    /// Staged: nobody runs it too, and may not enter the checkout.
    private let script = staged(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../tools/deps.sh").standardized.path)
    private var fakeBin = ""

    /// A folder with a pkg-config that knows every package but libsystemd, first on PATH.
    override func setUpWithError() throws {
        var template = Array("/tmp/fanfilter-deps.XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        fakeBin = String(cString: dir)
        let fake = """
            #!/bin/sh
            # pkg-config on a machine without libsystemd-dev
            for a in "$@"; do [ "$a" = libsystemd ] && exit 1; done
            exit 0

            """
        _ = FileManager.default.createFile(atPath: fakeBin + "/pkg-config", contents: Data(fake.utf8),
                                       attributes: [.posixPermissions: 0o755])
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: fakeBin) }

    private func run(_ args: [String], prefix: [String] = [], env: [String: String] = [:]) -> Child.Result {
        let path = fakeBin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        var assignments = ["PATH=" + path]
        for (k, v) in env { assignments.append(k + "=" + v) }
        return Child(prefix + ["/usr/bin/env"] + assignments + ["/bin/bash", script] + args, mergeStderr: true)
            .wait(timeout: .seconds(30))
    }

    func testPlansExactlyTheMissingPackage() {
        let r = run(["build", "--dry-run"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.lines.last.map(String.init),
                       "would run: apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libsystemd-dev")
        XCTAssertTrue(r.output.contains("libsystemd-dev (the journal and sd_notify, for the build)"), r.output)
    }

    func testTheTestStepPlansTheSamePackageWhenNothingElseIsMissing() throws {
        // The test step also checks util-linux, libcrypto, systemd and python3, which this machine has.
        guard access("/lib/systemd/systemd", X_OK) == 0 else { throw XCTSkip("systemd is not installed here") }
        let r = run(["test", "--dry-run"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.hasSuffix("--no-install-recommends libsystemd-dev\n"), r.output)
    }

    func testAMachineWithEverythingNeedsNothing() throws {
        guard Child(["/bin/sh", "-c", "pkg-config --exists libsystemd"]).wait().status == 0 else {
            throw XCTSkip("libsystemd-dev is not installed here")
        }
        let r = Child(["/bin/bash", script, "build", "--dry-run"], mergeStderr: true).wait()
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.output, "", "nothing is said when nothing is missing")
    }

    func testWithoutAptGetItNamesThePackagesAndStops() {
        let r = run(["build"], env: ["APT_GET": "/nonexistent/apt-get"])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("no apt-get on this machine: install these with its package manager (libsystemd-dev)"), r.output)
    }

    func testANonRootUserIsToldWhatToRunAndNothingIsInstalled() throws {
        chmod(fakeBin, 0o755)
        // Run by root, the test becomes another user; run by another user, it is one.
        let r = run(["build"], prefix: getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("run make as root to have them installed"), r.output)
        XCTAssertFalse(r.output.contains("installing"), r.output)
    }

    func testABadCallIsAUsageError() {
        XCTAssertEqual(run(["install"]).status, 2)
        XCTAssertEqual(run(["build", "--yes"]).status, 2)
    }
}
