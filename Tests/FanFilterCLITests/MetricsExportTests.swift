import Foundation
import Glibc
import TestSupport
import XCTest

/// The metrics as a fleet's tools read them: `fanfilter run` with a
/// `metrics_file`, Debian's prometheus-node-exporter on loopback with its
/// textfile collector pointed at the file's folder, scraped with curl.
final class MetricsExportTests: XCTestCase {
    var sandbox: Sandbox!

    override func setUpWithError() throws { sandbox = try Sandbox() }
    override func tearDown() { sandbox?.remove() }

    func testNodeExporterServesTheAgentsNumbers() throws {
        let exporterPath = "/usr/bin/prometheus-node-exporter"
        guard access(exporterPath, X_OK) == 0, access("/usr/bin/curl", X_OK) == 0 else {
            throw XCTSkip("needs prometheus-node-exporter and curl")
        }
        let root = sandbox.root
        let textfiles = root + "/textfile"
        XCTAssertEqual(mkdir(textfiles, 0o755), 0)
        let denied = sandbox.file("denied")
        let allowed = sandbox.file("allowed")
        let policyFile = sandbox.file("policy", contents: Array("""
        watch = \(root)
        port_socket = \(root)/port
        metrics_file = \(textfiles)/fanfilter.prom
        metrics_interval = 1s
        deny perm=open all : path=\(root)/denied
        """.utf8))
        let agent = Child([fanfilterPath, "run", "--policy", String(decoding: policyFile, as: UTF8.self)], mergeStderr: true)
        defer {
            kill(agent.pid, SIGTERM)
            _ = agent.wait(timeout: .seconds(10))
        }
        XCTAssertTrue(agent.waitForOutput(containing: "started:"), "the agent started")
        XCTAssertEqual(openFromChild([denied, allowed, allowed]), ["EPERM", "ok", "ok"])
        // The file is written every second: wait for it to hold these opens (a write
        // may fall between the denial and the allow).
        let file = textfiles + "/fanfilter.prom"
        func holdsBoth(_ text: String) -> Bool {
            text.contains("fanfilter_denied_total 1\n") && text.contains("fanfilter_allowed_total ") && !text.contains("fanfilter_allowed_total 0\n")
        }
        XCTAssertTrue(eventually(every: .milliseconds(100)) {
            holdsBoth((try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
        }, "the metrics file has the denial and the allow")

        let port = try Self.freeLoopbackPort()
        let exporter = Child([exporterPath, "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults",
                              "--collector.textfile", "--collector.textfile.directory=\(textfiles)"], mergeStderr: true)
        defer {
            kill(exporter.pid, SIGTERM)
            _ = exporter.wait(timeout: .seconds(10))
        }
        var scraped = ""
        XCTAssertTrue(eventually(every: .milliseconds(100)) {
            scraped = Child(["/usr/bin/curl", "-s", "--max-time", "2", "http://127.0.0.1:\(port)/metrics"]).wait().output
            return holdsBoth(scraped)
        }, "node_exporter serves the agent's metrics")
        let lines = scraped.split(separator: "\n")
        XCTAssertTrue(lines.contains("fanfilter_denied_total 1"), scraped)
        XCTAssertTrue(lines.contains { $0.hasPrefix("fanfilter_info{") && $0.contains("mode=\"enforce\"") }, scraped)
        let digest = Child(["/usr/bin/sha256sum", String(decoding: policyFile, as: UTF8.self)]).wait().output.prefix(64)
        XCTAssertTrue(lines.contains { $0.hasPrefix("fanfilter_info{") && $0.contains("policy_sha256=\"\(digest)\"") },
                      "the policy's SHA-256 as a label: \(scraped)")
        XCTAssertTrue(lines.contains("fanfilter_events_in_flight 0"), scraped)
        XCTAssertTrue(lines.contains("node_textfile_scrape_error 0"), "node_exporter read the file without an error")
        let allowedLine = try XCTUnwrap(lines.first { $0.hasPrefix("fanfilter_allowed_total ") })
        // The second open of the same file is answered by the kernel's cache (an ignore mark), never seen.
        XCTAssertGreaterThanOrEqual(Int(allowedLine.split(separator: " ")[1]) ?? 0, 1, "the allowed open (node_exporter's own reads come on top)")
    }

    /// A TCP port nothing listens on now, on 127.0.0.1 (the kernel picks it).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw XCTSkip("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
