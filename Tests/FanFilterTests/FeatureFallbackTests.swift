import Fanotify
import Glibc
import Policy
import TestSupport
import XCTest

/// The fallbacks for kernels older than this one, walked on this one: a
/// test build withholds features (FANFILTER_WITHHOLD_FEATURES) as RHEL 9's
/// 5.14, Ubuntu 22.04's 5.15 and a 5.19 kernel lack them, and the agent must
/// still deny, allow, cache only where it may, and answer every event once.
/// (Debian's own 5.10, 6.1 and 6.12 have them all but FAN_REPORT_FD_ERROR:
/// make kernels. Without FAN_REPORT_FD_ERROR and with few descriptors:
/// RunCommandTests.testALowFileLimitIsRaisedAndWhatTheKernelDeniesIsCounted.)
final class FeatureFallbackTests: KernelTestCase {
    /// The feature sets with evictable marks expect ignore marks, which need renames followed.
    override var sandboxNeedsRenameReports: Bool { true }

    /// The features each older kernel lacks, by what the agent withholds.
    static let kernels: [(name: String, withheld: String, pidfd: Bool, ignoreMarks: FanotifyFeatures.IgnoreMarks)] = [
        ("RHEL 9 (5.14)", "pidfd,fd-error,evictable-marks,fan-mark-ignore", false, .none),
        ("Ubuntu 22.04 (5.15)", "fd-error,evictable-marks,fan-mark-ignore", true, .none),
        ("5.19", "fd-error,fan-mark-ignore", true, .legacy),
    ]

    override func tearDown() {
        unsetenv("FANFILTER_WITHHOLD_FEATURES")
        super.tearDown()
    }

    func testEachOlderKernelsFeatureSetDeniesAllowsAndCachesOnlyWhereItMay() throws {
        for kernel in Self.kernels {
            setenv("FANFILTER_WITHHOLD_FEATURES", kernel.withheld, 1)
            let secret = sandbox.file("data/secret")
            let hot = sandbox.file("data/hot")
            let denied = sandbox.executable("uploads/true", from: "/bin/true")
            let agent = try startAgent("""
            watch = $ROOT
            deny perm=open all : path=$ROOT/data/secret
            deny perm=execute all : dir=$ROOT/uploads/
            """)
            XCTAssertEqual(agent.features.pidfd, kernel.pidfd, kernel.name)
            XCTAssertFalse(agent.features.fdError, kernel.name)
            XCTAssertEqual(agent.features.ignoreMarks, kernel.ignoreMarks, kernel.name)
            XCTAssertTrue("\(agent.features)".contains("ignore-marks=\(kernel.ignoreMarks.rawValue)"), kernel.name)

            XCTAssertEqual(openFromChild([secret, hot, hot, hot]), ["EPERM", "ok", "ok", "ok"], kernel.name)
            let blocked = Child([Array(openerPath.utf8), Array("exec".utf8), denied]).wait()
            XCTAssertEqual(blocked.lines, ["EPERM"], kernel.name)
            if kernel.ignoreMarks == .none {
                XCTAssertEqual(agent.counters[.ignoreMarks], 0, "\(kernel.name): no kernel cache without evictable marks")
            } else {
                XCTAssertGreaterThan(agent.counters[.ignoreMarks], 0, "\(kernel.name): the allow became an ignore mark")
            }
            // A changed file is decided afresh, whatever cached its allow.
            let before = agent.counters[.open]
            sandbox.file("data/hot", contents: Array("changed\n".utf8))
            XCTAssertEqual(openFromChild([hot]), ["ok"], kernel.name)
            XCTAssertGreaterThan(agent.counters[.open], before, "\(kernel.name): the changed file reached the agent")
            // And a file that turns denied is denied at once: the rule is on its path.
            stop(agent)
        }
    }

    /// Where renames cannot be watched (no group reports names before 5.9;
    /// Debian 11's 5.10 takes no such mark on tmpfs), a file moved under a
    /// denied folder would keep a cached allow: no allow is cached in the
    /// kernel there. Before, the agent warned and cached all the same.
    func testWithoutRenameWatchingNoAllowIsCachedInTheKernel() throws {
        setenv("FANFILTER_WITHHOLD_FEATURES", "rename-watch", 1)
        let hot = sandbox.file("open/hot")
        sandbox.file("denied/placeholder")
        let log = LogCapture()
        let agent = try startAgent("watch = $ROOT\ndeny perm=open all : dir=$ROOT/denied/", logger: log.logger)
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("cannot watch renames") })
        XCTAssertEqual(openFromChild([hot, hot, hot]), ["ok", "ok", "ok"])
        XCTAssertEqual(agent.counters[.ignoreMarks], 0, "no ignore mark where renames go unseen")
        XCTAssertEqual(agent.counters[.open], 3, "every open reached the agent")
        XCTAssertEqual(rename(sandbox.root + "/open/hot", sandbox.root + "/denied/hot"), 0)
        XCTAssertEqual(openFromChild([Array((sandbox.root + "/denied/hot").utf8)]), ["EPERM"], "the moved file is denied at once")
        stop(agent)
    }
}
