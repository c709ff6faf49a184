import EventFacts
import Foundation
import Glibc
import TestSupport
import TrustStore
import XCTest

/// fapolicyd's application allow-listing on the real kernel: trust from a
/// trust database, file types, and how a program was started.
final class AllowListingKernelTests: KernelTestCase {
    func sha256(_ bytes: [UInt8]) -> String {
        let r = Child(["/usr/bin/sha256sum", String(decoding: sandbox.path("hash-me"), as: UTF8.self)]).wait()
        return String(r.output.prefix(64))
    }

    func trustEntry(_ path: [UInt8], contents: [UInt8]) -> TrustEntry {
        sandbox.file("hash-me", contents: contents)
        return TrustEntry(path: path, source: .file, size: UInt64(contents.count), digest: TrustEntry.Digest(hex: sha256(contents))!)
    }

    func run(_ argv: [String]) -> Child.Result { Child(argv, mergeStderr: true).wait(timeout: .seconds(20)) }

    func testOnlyTrustedExecutablesRunAndAChangedOneDoesNot() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: "/bin/true")))
        let trusted = sandbox.executable("bin/trusted", from: "/bin/true")
        let unlisted = sandbox.executable("bin/unlisted", from: "/bin/true")
        let changed = sandbox.executable("bin/changed", from: "/bin/true")
        let script = sandbox.file("bin/script", contents: Array("#!/bin/sh\nexit 0\n".utf8), mode: 0o755)
        try TrustDatabaseWriter.write([trustEntry(trusted, contents: bytes), trustEntry(changed, contents: bytes)],
                                      to: String(decoding: sandbox.path("trust.mdb"), as: UTF8.self))
        // Changed after the database was built: same size, another byte.
        let fd = open(String(decoding: changed, as: UTF8.self), O_WRONLY)
        var byte: UInt8 = 0x41
        pwrite(fd, &byte, 1, off_t(bytes.count - 1))
        close(fd)
        let agent = try startAgent("""
        watch = $ROOT
        trust_db = $ROOT/trust.mdb
        integrity = sha256
        allow perm=execute all : ftype=text/x-shellscript
        deny_audit perm=any all : ftype=application/x-bad-elf
        allow perm=execute all : ftype=application/x-executable trust=1
        deny_audit perm=execute all : all
        allow perm=open all : all
        """)
        let root = sandbox.root
        XCTAssertEqual(run([openerPath, "exec", root + "/bin/trusted"]).status, 0)
        let hashed = agent.counters[.filesHashed], typed = agent.counters[.filesTyped]
        XCTAssertGreaterThan(hashed, 0)
        XCTAssertGreaterThan(typed, 0)
        XCTAssertEqual(run([openerPath, "exec", root + "/bin/trusted"]).status, 0)
        XCTAssertEqual(agent.counters[.filesHashed], hashed, "a repeat of a trusted file costs no hash")
        XCTAssertEqual(agent.counters[.filesTyped], typed, "nor a read for its type")
        XCTAssertEqual(run([openerPath, "exec", root + "/bin/unlisted"]).output, "EPERM\n", "not in the trust database")
        XCTAssertEqual(run([openerPath, "exec", root + "/bin/changed"]).output, "EPERM\n", "listed, and changed since")
        XCTAssertEqual(run([openerPath, "exec", root + "/bin/script"]).status, 0, "a shell script by its #! line")
        XCTAssertEqual(Array(unlisted.suffix(8)), Array("unlisted".utf8))
        _ = script
        stop(agent)
    }

    func testABadElfIsDeniedEvenWhenTrusted() throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: "/bin/true")))
        bytes[54] = 0x20  // e_phentsize: not a 64-bit program header's size
        let bad = sandbox.file("bin/bad", contents: bytes, mode: 0o755)
        try TrustDatabaseWriter.write([trustEntry(bad, contents: bytes)], to: String(decoding: sandbox.path("trust.mdb"), as: UTF8.self))
        let agent = try startAgent("""
        watch = $ROOT
        trust_db = $ROOT/trust.mdb
        deny_audit perm=any all : ftype=application/x-bad-elf
        allow perm=execute all : trust=1
        """)
        XCTAssertEqual(run([openerPath, "open", sandbox.root + "/bin/bad"]).output, "EPERM\n")
        stop(agent)
    }

    func testTheRuntimeLinkerNamedAsTheCommandLDPreloadAndLDAudit() throws {
        sandbox.executable("bin/prog", from: "/bin/true")
        sandbox.executable("lib/preload.so", from: "/lib/x86_64-linux-gnu/libdl.so.2")
        let log = LogCapture()
        let agent = try startAgent("""
        watch = $ROOT
        deny_log perm=any pattern=ld_so : all
        deny_log perm=any pattern=ld_preload : all
        allow perm=any pattern=normal : all
        """, logger: log.logger)
        let root = sandbox.root
        XCTAssertEqual(run([openerPath, "exec", root + "/bin/prog"]).status, 0, "started the usual way")
        let direct = run([openerPath, "exec", "/lib64/ld-linux-x86-64.so.2", root + "/bin/prog"])
        XCTAssertNotEqual(direct.status, 0, "ld.so could not open the program: \(direct.output)")
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("deny open") && $0.message.hasSuffix("rule=test.policy:2") }, "\(log.all.map(\.message))")
        let preloaded = run(["/usr/bin/env", "LD_PRELOAD=\(root)/lib/preload.so", root + "/bin/prog"])
        XCTAssertTrue(preloaded.output.contains("preload.so"), "the loader says it could not preload: \(preloaded.output)")
        XCTAssertNotNil(log.wait { $0.message.contains("preload.so by ") && $0.message.hasSuffix("rule=test.policy:3") }, "\(log.all.map(\.message))")
        // LD_AUDIT: the loader opens the auditing library first; the same pattern denies it.
        sandbox.executable("lib/audit.so", from: "/lib/x86_64-linux-gnu/libdl.so.2")
        _ = run(["/usr/bin/env", "LD_AUDIT=\(root)/lib/audit.so", root + "/bin/prog"])
        XCTAssertNotNil(log.wait { $0.message.contains("audit.so by ") && $0.message.hasSuffix("rule=test.policy:3") }, "\(log.all.map(\.message))")
        stop(agent)
    }
}

/// A trust database renamed into place is in force within seconds, without a reload.
final class TrustDatabaseChangeTests: KernelTestCase {
    func testANewDatabaseIsPickedUpOnItsOwn() throws {
        let program = sandbox.executable("bin/prog", from: "/bin/true")
        let log = LogCapture()
        let agent = try startAgent("""
        watch = $ROOT
        trust_db = $ROOT/trust.mdb
        integrity = size
        allow perm=execute all : trust=1
        deny perm=execute all : all
        """, logger: log.logger)
        let run = { Child([openerPath, "exec", String(decoding: program, as: UTF8.self)], mergeStderr: true).wait() }
        XCTAssertEqual(run().output, "EPERM\n", "no database yet: nothing is trusted")
        XCTAssertNotNil(log.wait { $0.message.contains("trust=1 matches no file until it is built") })
        var st = stat()
        stat(String(decoding: program, as: UTF8.self), &st)
        try TrustDatabaseWriter.write([TrustEntry(path: program, source: .file, size: UInt64(st.st_size), digest: .none)],
                                      to: String(decoding: sandbox.path("trust.mdb"), as: UTF8.self))
        XCTAssertNotNil(log.wait(for: { $0.message.hasPrefix("a new trust database is in force") }, timeout: .seconds(10)))
        XCTAssertEqual(run().status, 0)
        stop(agent)
    }
}

/// integrity = sha256 on a file with fs-verity: the kernel's digest is
/// checked, and the file's contents are never read (an ext4 image made with
/// `mkfs.ext4 -O verity`, loop-mounted inside the sandbox).
/// fs-verity needs a kernel built with CONFIG_FS_VERITY. Where this one has
/// none the test skips; `make test` also runs it in a virtual machine on
/// Debian's kernel (tools/kernel-vm.sh), with FANFILTER_REQUIRE_VERITY=1 so
/// that a skip there is a failure.
final class VerityKernelTests: KernelTestCase {
    var mountPoint: String { String(decoding: sandbox.path("verity"), as: UTF8.self) }

    /// An ext4 image made with `mkfs.ext4 -O verity`, loop-mounted in the sandbox.
    func mountVerityImage() throws {
        let image = String(decoding: sandbox.path("verity.img"), as: UTF8.self)
        mkdir(mountPoint, 0o755)
        XCTAssertEqual(Child(["/usr/bin/truncate", "-s", "32M", image]).wait().status, 0)
        let made = Child(["/usr/sbin/mkfs.ext4", "-q", "-O", "verity", "-b", "4096", image], mergeStderr: true).wait()
        XCTAssertEqual(made.status, 0, made.output)
        let mounted = Child(["/bin/mount", "-o", "loop", image, mountPoint], mergeStderr: true).wait()
        XCTAssertEqual(mounted.status, 0, mounted.output)
    }

    /// A copy of `source` at `path`, executable, with fs-verity enabled when `verity`.
    func install(_ source: String, at path: String, verity: Bool) throws {
        unlink(path)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: try Data(contentsOf: URL(fileURLWithPath: source))))
        chmod(path, 0o755)
        guard verity else { return }
        let enabled = Child(["/usr/bin/fsverity", "enable", path], mergeStderr: true).wait()
        if enabled.output.contains("Operation not supported") || enabled.output.contains("Inappropriate ioctl") {
            let why = "this kernel is built without fs-verity (CONFIG_FS_VERITY): \(enabled.output)"
            if ProcessInfo.processInfo.environment["FANFILTER_REQUIRE_VERITY"] == "1" { XCTFail(why) }
            throw XCTSkip(why)
        }
        XCTAssertEqual(enabled.status, 0, enabled.output)
    }

    func testAFileWithFsVerityIsCheckedByTheKernelsDigest() throws {
        try mountVerityImage()
        defer { _ = Child(["/bin/umount", "-l", mountPoint]).wait() }
        let program = mountPoint + "/prog"
        let plain = mountPoint + "/plain"
        try install("/bin/true", at: program, verity: true)
        try install("/bin/true", at: plain, verity: false)
        func entry(_ path: String) -> TrustEntry {
            let sha = String(Child(["/usr/bin/sha256sum", path]).wait().output.prefix(64))
            var st = stat()
            stat(path, &st)
            return TrustEntry(path: Array(path.utf8), source: .file, size: UInt64(st.st_size), digest: TrustEntry.Digest(hex: sha)!)
        }
        let upgraded = VerityUpgrade.apply([entry(program), entry(plain)])
        XCTAssertEqual(upgraded.upgraded, 1, "only the file with fs-verity")
        let measured = Child(["/usr/bin/fsverity", "measure", program]).wait().output
        XCTAssertTrue(measured.hasPrefix("sha256:" + (upgraded.entries[0].digest.hex ?? "?")), measured)
        try TrustDatabaseWriter.write(upgraded.entries, to: String(decoding: sandbox.path("trust.mdb"), as: UTF8.self))
        let agent = try startAgent("""
        watch_mount = $ROOT/verity
        trust_db = $ROOT/trust.mdb
        integrity = sha256
        cache = off
        allow perm=execute all : trust=1
        deny perm=execute all : all
        """)
        let run = { (path: String) in Child([openerPath, "exec", path], mergeStderr: true).wait(timeout: .seconds(20)) }
        XCTAssertEqual(run(program).status, 0)
        XCTAssertEqual(run(program).status, 0)
        XCTAssertGreaterThanOrEqual(agent.counters[.verityChecks], 2)
        XCTAssertEqual(agent.counters[.filesHashed], 0, "never read to be checked")
        XCTAssertEqual(run(plain).status, 0, "a listed file without fs-verity is hashed as before")
        XCTAssertEqual(agent.counters[.filesHashed], 1)

        // Another program put in its place, with fs-verity of its own: its
        // kernel digest is not the recorded one; still never read.
        try install("/bin/false", at: program, verity: true)
        XCTAssertEqual(run(program).output, "EPERM\n", "a different file with fs-verity")
        // The same contents without fs-verity: the record is the kernel's
        // digest, which a file without fs-verity cannot show.
        try install("/bin/true", at: program, verity: false)
        XCTAssertEqual(run(program).output, "EPERM\n", "the same bytes, fs-verity gone")
        XCTAssertEqual(agent.counters[.filesHashed], 1, "neither was read")
        stop(agent)
    }

    func testTrustAddAndCheckOfAFileWithFsVerity() throws {
        try mountVerityImage()
        defer { _ = Child(["/bin/umount", "-l", mountPoint]).wait() }
        let program = mountPoint + "/prog"
        try install("/bin/true", at: program, verity: true)
        let root = sandbox.root
        try "trust_db = \(root)/db/trust.mdb\nintegrity = sha256\n".write(toFile: root + "/policy", atomically: false, encoding: .utf8)
        let policy = ["--policy", root + "/policy"]
        let sources = ["--trust-file", root + "/trust", "--trust-folder", root + "/trust.d", "--dpkg-info", root, "--rpm", "none"]
        let added = Child([fanfilterPath, "trust", "add", program] + sources + policy, mergeStderr: true).wait(timeout: .seconds(30))
        XCTAssertEqual(added.status, 0, added.output)
        let checked = Child([fanfilterPath, "trust", "check", program] + policy, mergeStderr: true).wait(timeout: .seconds(30))
        XCTAssertEqual(checked.status, 0, checked.output)
        let measured = Child(["/usr/bin/fsverity", "measure", program]).wait().output
        let kernelDigest = String(measured.split(separator: " ")[0].dropFirst("sha256:".count))
        XCTAssertTrue(checked.output.contains("digest: recorded \(kernelDigest) (fs-verity, enforced by the kernel)"), checked.output)
        XCTAssertTrue(checked.output.contains("fs-verity: now \(kernelDigest)"), checked.output)
        XCTAssertFalse(checked.output.contains("digest: now"), "measured, never read: \(checked.output)")
        XCTAssertTrue(checked.output.contains("integrity = sha256: trusted"), checked.output)
    }
}
