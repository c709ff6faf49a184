import Policy
import XCTest

/// `fanfilter import-fapolicyd`'s translation, from text (no files, no root).
final class FapolicydImportTests: XCTestCase {
    func testEverySettingBecomesASettingOrACommentThatSaysWhy() throws {
        let conf = """
        # comment
        permissive = 1
        q_size = 640
        integrity = ima
        obj_cache_size = 8191
        watch_fs = ext4,xfs,tmpfs
        nice_val = 14
        trust = rpmdb,file
        uid = fapolicyd
        frobnicate = 3
        """
        let text = FapolicydImport(folder: "/etc/fapolicyd", conf: conf, hasRulesFolder: true).text
        let settings = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        XCTAssertEqual(settings, ["mode = permissive", "queue_size = 640", "integrity = sha256", "cache_size = 8191",
                                  "watch_fs = ext4,xfs,tmpfs", "priority_boost = 14",
                                  "rules_dir = /etc/fapolicyd/rules.d"])
        XCTAssertTrue(text.contains("# fapolicyd.conf: integrity = ima  (IMA is not read"), text)
        XCTAssertTrue(text.contains("# fapolicyd.conf: frobnicate = 3  (unknown to fanfilter)"), text)
        XCTAssertTrue(text.contains("# fapolicyd.conf: uid = fapolicyd  (fanfilter's systemd unit"), text)
        XCTAssertTrue(text.contains("--trust-file /etc/fapolicyd/fapolicyd.trust"), text)
        // Every line it writes is a line the policy language reads.
        let rulesFree = text.replacingOccurrences(of: "rules_dir = /etc/fapolicyd/rules.d", with: "")
        XCTAssertNoThrow(try Policy.parse(Array(rulesFree.utf8), file: "imported"))
    }

    func testWithoutAConfigurationOrARulesFolder() {
        let text = FapolicydImport(folder: "/x", conf: nil, hasRulesFolder: false).text
        XCTAssertTrue(text.contains("# /x/fapolicyd.conf: not found; fanfilter's defaults stand."))
        XCTAssertTrue(text.hasSuffix("include = /x/fapolicyd.rules\n"), text)
    }
}
