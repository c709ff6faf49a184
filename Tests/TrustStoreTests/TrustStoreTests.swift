import TrustStore
import XCTest

/// The trust database's sources and its LMDB file (no root, no kernel).
final class TrustStoreTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "fanfilter-trust-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    let sha = String(repeating: "ab", count: 32)

    func testTrustFilesInFapolicydFormat() {
        let text = """
        # comment
        /usr/bin/ls 1234 \(sha)
        /opt/with space/tool  99 \(sha)

        relative 1 \(sha)
        /x notanumber \(sha)
        /y 5 abc
        /z
        """
        let file = TrustFile(text: Array(text.utf8), file: "/etc/fanfilter/trust")
        XCTAssertEqual(file.entries.map { String(decoding: $0.path, as: UTF8.self) }, ["/usr/bin/ls", "/opt/with space/tool"])
        XCTAssertEqual(file.entries[0].size, 1234)
        XCTAssertEqual(file.entries[0].digest.hex, sha)
        XCTAssertEqual(file.problems.map(\.description), [
            "/etc/fanfilter/trust:5: the path must be absolute and shorter than 4096 bytes",
            "/etc/fanfilter/trust:6: 'notanumber' is not a size in bytes",
            "/etc/fanfilter/trust:7: the SHA-256 must be 64 hex digits",
            "/etc/fanfilter/trust:8: expected PATH SIZE SHA256",
        ])
    }

    func testTheDatabaseKeepsEveryEntryAndTheLaterSourceWins() throws {
        let long = "/" + String(repeating: "d/", count: 600) + "file"
        let entries = [
            TrustEntry(path: Array("/usr/bin/ls".utf8), source: .dpkg, size: 10, digest: TrustEntry.Digest(hex: String(repeating: "0f", count: 16))!),
            TrustEntry(path: Array("/usr/bin/cat".utf8), source: .rpm, size: 20, digest: TrustEntry.Digest(hex: String(repeating: "5a", count: 64))!),
            TrustEntry(path: Array(long.utf8), source: .file, size: 30, digest: TrustEntry.Digest(hex: sha)!),
            TrustEntry(path: Array("/usr/bin/ls".utf8), source: .file, size: 11, digest: TrustEntry.Digest(hex: sha)!),
        ]
        let path = folder + "/trust.mdb"
        XCTAssertEqual(try TrustDatabaseWriter.write(entries, to: path), 3)
        let db = try TrustDatabase(path: path)
        XCTAssertEqual(db.count, 3)
        XCTAssertEqual(db.lookUp(Array("/usr/bin/ls".utf8)), entries[3], "the trust file's word over dpkg's")
        XCTAssertEqual(db.lookUp(Array("/usr/bin/cat".utf8)), entries[1], "rpm's SHA-512")
        XCTAssertEqual(entries[1].digest.hex?.count, 128)
        XCTAssertEqual(db.lookUp(Array(long.utf8)), entries[2], "a path longer than LMDB's keys")
        XCTAssertNil(db.lookUp(Array((long + "x").utf8)))
        XCTAssertNil(db.lookUp(Array("/usr/bin/l".utf8)))
        XCTAssertNil(db.lookUp([]))
        var listed: [String] = []
        db.forEach { listed.append(String(decoding: $0.path, as: UTF8.self)) }
        XCTAssertEqual(Set(listed), Set([long, "/usr/bin/cat", "/usr/bin/ls"]))

        // A new database is renamed into place: the one open keeps reading the old file.
        try TrustDatabaseWriter.write([entries[1]], to: path)
        XCTAssertNotNil(db.lookUp(Array("/usr/bin/ls".utf8)))
        let fresh = try TrustDatabase(path: path)
        XCTAssertNil(fresh.lookUp(Array("/usr/bin/ls".utf8)))
        XCTAssertNotEqual(fresh.identity.inode, db.identity.inode)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".new"))
    }

    func testAFileWithoutFsVerityHasNoVerityDigest() throws {
        let path = folder + "/plain"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        XCTAssertNil(Verity.digest(of: fd))
        XCTAssertFalse(Verity.isEnabled(Array(path.utf8)))
        XCTAssertFalse(Verity.isEnabled(Array((folder + "/missing").utf8)))
    }

    func testErrorsNameTheFile() {
        XCTAssertThrowsError(try TrustDatabase(path: folder + "/missing.mdb")) { error in
            XCTAssertEqual("\(error)", "\(folder)/missing.mdb: cannot open it: No such file or directory")
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/junk.mdb", contents: Data(repeating: 7, count: 9000)))
        XCTAssertThrowsError(try TrustDatabase(path: folder + "/junk.mdb")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(folder)/junk.mdb: cannot open it as an LMDB database: "), "\(error)")
        }
    }

    func testDpkgRecordsWithMergedUsrPaths() throws {
        let info = folder + "/info"
        try FileManager.default.createDirectory(atPath: info, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/usr/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/bin", withDestinationPath: "usr/bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/usr/bin/tool", contents: Data("hello".utf8)))
        try FileManager.default.createSymbolicLink(atPath: folder + "/usr/bin/alias", withDestinationPath: "tool")
        let relative = String(folder.dropFirst())
        try Data("/.\n\(folder)/bin\n\(folder)/bin/tool\n\(folder)/usr/bin/alias\n\(folder)/gone\n".utf8)
            .write(to: URL(fileURLWithPath: info + "/pkg:amd64.list"))
        try Data("5d41402abc4b2a76b9719d911017c592  \(relative)/bin/tool\n".utf8).write(to: URL(fileURLWithPath: info + "/pkg:amd64.md5sums"))
        let entries = DpkgSource.entries(infoFolder: info)
        XCTAssertEqual(entries.count, 1, "the folder, the symbolic link and the missing file are not files")
        let canonical = URL(fileURLWithPath: folder + "/usr/bin/tool").resolvingSymlinksInPath().path
        XCTAssertEqual(entries.first.map { String(decoding: $0.path, as: UTF8.self) }, canonical)
        XCTAssertEqual(entries.first?.size, 5)
        XCTAssertEqual(entries.first?.digest.hex, "5d41402abc4b2a76b9719d911017c592")
        XCTAssertEqual(entries.first?.source, .dpkg)
    }
}

/// rpm's listing, as `rpm -qa --queryformat RpmSource.queryFormat` prints it.
final class RpmSourceTests: XCTestCase {
    func testRegularFilesWithTheirDigests() throws {
        let dir = NSTemporaryDirectory() + "fanfilter-rpm-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["a", "b", "c"] { XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data("x".utf8))) }
        let sha = String(repeating: "2", count: 64), md5 = String(repeating: "3", count: 32)
        let listing = """
        \(dir)/a\t1\t33261\t8\t\(sha)
        \(dir)/b\t1\t33188\t1\t\(md5)
        \(dir)/c\t1\t33188\t10\t\(String(repeating: "4", count: 128))
        \(dir)\t4096\t16877\t8\t
        \(dir)/missing\t1\t33188\t8\t\(sha)
        garbage line
        """
        let entries = RpmSource.entries(fromQuery: Array(listing.utf8))
        XCTAssertEqual(entries.map { String(decoding: $0.path, as: UTF8.self) }.map { ($0 as NSString).lastPathComponent }, ["a", "b", "c"])
        XCTAssertEqual(entries.map(\.digest.hex), [sha, md5, String(repeating: "4", count: 128)], "rpm's SHA-256, MD5 and SHA-512")
        XCTAssertEqual(entries.map(\.source), [.rpm, .rpm, .rpm])
    }
}
