import Dispatch
import Foundation
import Glibc
import Policy
import PortServer
import TestSupport
import XCTest

/// Examples/clamd end to end on the real kernel: a real clamd (Debian's
/// clamav-daemon) with a signature database this test writes, reached
/// through fanfilter's port with each event's descriptor (FILDES).
final class ClamdChainTests: KernelTestCase {
    var server: PortServer!
    var clamd: Child?
    let log = LogCapture()
    static let marker = "X5O-FANFILTER-TEST-MARKER"

    override func tearDown() {
        if let clamd { kill(clamd.pid, SIGTERM); _ = clamd.wait(timeout: .seconds(10)) }
        server?.stop()
        super.tearDown()
    }

    /// clamd on a socket in the sandbox, with one signature: the marker, anywhere in a file.
    func startClamd() throws -> String {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/sbin/clamd"),
                          "needs clamd (apt-get install clamav-daemon; make test installs it)")
        let hex = Self.marker.utf8.map { String(format: "%02x", $0) }.joined()
        _ = sandbox.file("clamav/db/fanfilter.ndb", contents: Array("FanfilterTest.Marker:0:*:\(hex)\n".utf8))
        let socket = sandbox.root + "/clamav/clamd.sock"
        let conf = sandbox.file("clamav/clamd.conf", contents: Array("""
        LocalSocket \(socket)
        DatabaseDirectory \(sandbox.root)/clamav/db
        Foreground yes
        LogFile \(sandbox.root)/clamav/clamd.log
        MaxThreads 4

        """.utf8))
        clamd = Child(["/usr/sbin/clamd", "-c", String(decoding: conf, as: UTF8.self)], mergeStderr: true)
        XCTAssertTrue(eventually(timeout: .seconds(60)) { FileManager.default.fileExists(atPath: socket) }, "clamd listens")
        return socket
    }

    func testClamdDeniesAnInfectedFileAllowsACleanOneAndScansTwoAtOnce() throws {
        let clamdSocket = try startClamd()
        let infected = sandbox.file("data/infected.txt", contents: Array("some text \(Self.marker) more".utf8))
        let clean = sandbox.file("data/clean.txt", contents: Array("nothing here".utf8))
        // Two files clamd takes a while to scan (40 MiB of random bytes each), opened at once.
        let random = FileHandle(forReadingAtPath: "/dev/urandom")!
        let big = (0..<2).map { i in sandbox.file("data/big\(i).bin", contents: Array(random.readData(ofLength: 40 << 20))) }
        let text = "watch = $ROOT\nreply_timeout = 20s\npass_fd = yes\nask perm=open all : dir=$ROOT/data/\n"
        server = try PortServer(access: PortAccess(path: sandbox.root + "/port", group: nil, maxDeciders: 4), logger: log.logger)
        let agent = try startAgent(text, logger: log.logger, clients: server)
        server.start()
        let client = Child([productsDirectory + "fanfilter-clamd", "5", "2", "--clamd", clamdSocket, "--socket", sandbox.root + "/port"],
                           mergeStderr: true)
        XCTAssertTrue(client.waitForOutput(containing: "connected to"))
        XCTAssertTrue(eventually { self.server.clients.first?.primed == 10 })

        XCTAssertEqual(openFromChild([infected, clean]), ["EPERM", "ok"])
        XCTAssertNotNil(log.wait { $0.message.hasPrefix("deny open \(self.sandbox.root)/data/infected.txt") && $0.message.contains("client=clamd") })
        let both = big.map { Child([Array(openerPath.utf8), Array("open".utf8), $0]) }
        for o in both { XCTAssertEqual(o.wait(timeout: .seconds(60)).lines, ["ok"]) }
        kill(client.pid, SIGTERM)
        let out = client.wait().output
        XCTAssertTrue(out.contains("deny \(sandbox.root)/data/infected.txt: FanfilterTest.Marker"), out)
        XCTAssertTrue(out.contains("clamd requests in flight: 2"), "two scans in clamd at once: \(out)")
        stop(agent)
    }
}
