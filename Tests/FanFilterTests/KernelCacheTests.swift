import Foundation
import Glibc
import Policy
import TestSupport
import XCTest

/// cache = kernel: ignore marks after allows that depend on the file alone,
/// and the agent's own cache for the rest; cache = user: the agent's own cache.
final class KernelCacheTests: KernelTestCase {
    /// Ignore marks need renames followed (FeatureFallbackTests covers a
    /// filesystem without it).
    override var sandboxNeedsRenameReports: Bool { true }

    func testAnAllowForEveryProcessIsCachedUntilTheFileChanges() throws {
        let file = sandbox.file("hot")
        let agent = try startAgent("watch = $ROOT\ndeny perm=open all : path=$ROOT/denied")
        XCTAssertEqual(openFromChild([file, file, file]), ["ok", "ok", "ok"])
        XCTAssertEqual(agent.counters[.open], 1, "opens after the first never leave the kernel")
        XCTAssertEqual(agent.counters[.ignoreMarks], 1)
        sandbox.file("hot", contents: Array("changed\n".utf8))
        XCTAssertEqual(openFromChild([file]), ["ok"])
        XCTAssertEqual(agent.counters[.open], 2, "a modified file is decided afresh")
        agent.stop()
        XCTAssertEqual(agent.counters[.responses], agent.counters[.events])
    }

    func testAWatchedFileNotFolderStartsWithoutWaitingOnItself() throws {
        let file = sandbox.file("watched-file")
        let agent = try startAgent("watch = $ROOT/watched-file\ndeny all : path=$ROOT/watched-file")
        XCTAssertEqual(openFromChild([file]), ["EPERM"])
        stop(agent)
    }

    func testCachedAndUncachedRunsDecideAlikeOnARandomWorkload() throws {
        let files = (0..<30).map { sandbox.file("w/\($0 % 3)/f\($0)") }
        var rng = SystemRandomNumberGenerator()
        let order = (0..<300).map { _ in files[Int.random(in: 0..<files.count, using: &rng)] }
        let text = """
        watch = $ROOT
        deny perm=open all : dir=$ROOT/w/1/
        deny perm=open uid=1000 : dir=$ROOT/w/2/
        allow all : all
        """
        var outcomes: [[String]] = []
        for cache in CacheMode.allCases {
            let agent = try startAgent(text + "\ncache = \(cache.rawValue)")
            outcomes.append(openFromChild(order) + openFromChild(order, prefix: asUser1000))
            agent.stop()
            XCTAssertEqual(cache == .kernel, agent.counters[.ignoreMarks] > 0)
            XCTAssertEqual(cache != .off, agent.counters[.cacheHits] > 0)
        }
        XCTAssertEqual(outcomes[0], outcomes[2])
        XCTAssertEqual(outcomes[1], outcomes[2])
        XCTAssertEqual(Set(outcomes[0]), ["ok", "EPERM"])
    }

    func testAFileMovedOrLinkedUnderADeniedFolderIsDeniedOnceTheMoveIsSeen() throws {
        let moved = sandbox.file("open/moved")
        let linked = sandbox.file("open/linked")
        sandbox.file("denied/placeholder")
        let agent = try startAgent("watch = $ROOT\ndeny perm=open all : dir=$ROOT/denied/")
        XCTAssertEqual(openFromChild([moved, linked]), ["ok", "ok"])
        XCTAssertEqual(agent.counters[.ignoreMarks], 2)
        func waitForDrops(_ n: UInt64) -> Bool { eventually { agent.counters[.cacheDrops] >= n } }
        // The watcher takes events in order: once the rename's drop is seen, so was the new file.
        sandbox.file("open/new-file")
        XCTAssertEqual(rename(cString(moved), cString(sandbox.path("denied/moved"))), 0)
        XCTAssertTrue(waitForDrops(1), "the rename was seen")
        XCTAssertEqual(agent.counters[.cacheDrops], 1, "a new file with one name changed no cached allow")
        XCTAssertEqual(agent.counters[.cacheFlushes], 0, "a file's move drops its own marks alone")
        XCTAssertEqual(openFromChild([sandbox.path("denied/moved")]), ["EPERM"])

        XCTAssertEqual(openFromChild([linked]), ["ok"], "cached again")
        XCTAssertEqual(link(cString(linked), cString(sandbox.path("denied/linked"))), 0)
        XCTAssertTrue(waitForDrops(2), "the new link was seen")
        XCTAssertEqual(openFromChild([sandbox.path("denied/linked")]), ["EPERM"])
        stop(agent)
    }

    /// A folder moved changes the path of everything under it: every mark is dropped.
    func testAFileInAFolderMovedUnderADeniedFolderIsDenied() throws {
        let file = sandbox.file("open/sub/file")
        sandbox.file("denied/placeholder")
        let agent = try startAgent("watch = $ROOT\ndeny perm=open all : dir=$ROOT/denied/")
        XCTAssertEqual(openFromChild([file, file]), ["ok", "ok"])
        XCTAssertEqual(agent.counters[.open], 1, "cached")
        XCTAssertEqual(rename(cString(sandbox.path("open/sub")), cString(sandbox.path("denied/sub"))), 0)
        XCTAssertTrue(eventually { agent.counters[.cacheFlushes] >= 1 }, "the folder's move was seen")
        XCTAssertEqual(openFromChild([sandbox.path("denied/sub/file")]), ["EPERM"])
        stop(agent)
    }

    /// Regression: a user renaming files in a folder of their own dropped
    /// every ignore mark on each rename (90,000 to 170,000 drops in 2 s, 28 %
    /// of a CPU, everyone's cached opens 4 to 5 times slower). A file's move
    /// now drops its own marks alone, and a storm of folder moves costs a
    /// full drop a second at most, no mark being placed meanwhile.
    func testARenameStormCostsNoOneElsesCachedAllows() throws {
        let hot = sandbox.file("shared/hot")
        let home = sandbox.path("home")
        XCTAssertEqual(mkdir(printable(home), 0o755), 0)
        XCTAssertEqual(chown(printable(home), 1000, 1000), 0)
        let agent = try startAgent("watch = $ROOT\ndeny perm=open all : dir=$ROOT/denied/")
        XCTAssertEqual(openFromChild([hot, hot]), ["ok", "ok"])
        XCTAssertEqual(agent.counters[.ignoreMarks], 1)
        // 20,000 renames of a file, then 2,000 of a folder, by uid 1000 in its own folder.
        let storm = """
        import os, sys
        home = sys.argv[1]
        open(home + "/a", "w").close(); os.mkdir(home + "/d")
        for i in range(10000):
            os.rename(home + "/a", home + "/b"); os.rename(home + "/b", home + "/a")
        print("files")
        for i in range(1000):
            os.rename(home + "/d", home + "/e"); os.rename(home + "/e", home + "/d")
        print("folders")
        """
        let r = Child(asUser1000 + ["/usr/bin/python3", "-c", storm, printable(home)], mergeStderr: true).wait(timeout: .seconds(60))
        XCTAssertEqual(r.output, "files\nfolders\n")
        // The kernel merges a file's repeated moves in its queue; the last one is seen.
        XCTAssertTrue(eventually { agent.counters[.cacheDrops] > 0 })
        XCTAssertTrue(eventually { Child(["/bin/true"]).wait().status == 0 && agent.counters[.cacheFlushes] > 0 }, "the folder moves were seen")
        XCTAssertLessThanOrEqual(agent.counters[.cacheFlushes], 4, "2,000 folder moves: a drop when the storm starts, and one a second at most")
        // Once the storm is over, the shared file is cached again after one decision.
        Thread.sleep(forTimeInterval: 1.2)
        let decided = agent.counters[.open]
        XCTAssertEqual(openFromChild([hot, hot, hot]), ["ok", "ok", "ok"])
        XCTAssertLessThanOrEqual(agent.counters[.open], decided + 1)
        stop(agent)
    }

    /// Regression (a bypass): `deny/h` and `ok/h` are one inode. An ignore mark
    /// placed after an allow of `ok/h` would let `deny/h` through.
    func testAFileWithTwoNamesIsNeverMarked() throws {
        let denied = sandbox.file("deny/h")
        let allowed = sandbox.path("ok/h")
        _ = mkdir(cString(sandbox.path("ok")), 0o755)
        XCTAssertEqual(link(cString(denied), cString(allowed)), 0)
        let binary = sandbox.executable("deny/true", from: "/bin/true")
        let binaryAlias = sandbox.path("ok/true")
        XCTAssertEqual(link(cString(binary), cString(binaryAlias)), 0)
        let agent = try startAgent("watch = $ROOT\ndeny perm=any all : dir=$ROOT/deny/")
        XCTAssertEqual(openFromChild([denied, allowed, denied, allowed, denied]), ["EPERM", "ok", "EPERM", "ok", "EPERM"])
        for (path, expected) in [(binary, 126), (binaryAlias, 0), (binary, 126)] {
            let r = Child([Array(openerPath.utf8), Array("exec".utf8), path]).wait()
            XCTAssertEqual(r.status, Int32(expected), printable(path) + ": " + r.output)
        }
        XCTAssertEqual(agent.counters[.ignoreMarks], 0, "no inode with two names is marked")
        stop(agent)
    }
}
