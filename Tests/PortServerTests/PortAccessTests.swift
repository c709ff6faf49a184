import Foundation
import Glibc
import PortProtocol
import PortServer
import TestSupport
import XCTest

/// The port's security descriptor (root): the socket file's owner and mode,
/// and each peer's credentials checked again at connect, so a user outside
/// `port_group` is refused even through a socket file opened up by hand.
final class PortAccessTests: PortTestCase {
    static let group: UInt32 = 4711

    override func setUpWithError() throws {
        try XCTSkipIf(getuid() != 0, "needs root: other users' connections (setpriv)")
        try super.setUpWithError()
    }

    func asUser(_ groups: String?, _ steps: [String]) -> Child.Result {
        var prefix = ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000"]
        prefix += groups.map { ["--groups=\($0)"] } ?? ["--clear-groups"]
        return Child(prefix + Self.pythonClient + [socketPath] + steps, mergeStderr: true).wait()
    }

    func testTheSocketIsRootsAloneWithoutAGroup() throws {
        var st = stat()
        XCTAssertEqual(stat(socketPath, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(st.st_uid, 0)
        let r = asUser(nil, ["hello:control:nobody"])
        XCTAssertTrue(r.output.contains("PermissionError"), r.output)
    }

    func testAMemberOfPortGroupIsLetInAndOthersAreNot() throws {
        stopServer()
        try makeServer(group: Self.group)
        var st = stat()
        XCTAssertEqual(stat(socketPath, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o660)
        XCTAssertEqual(st.st_gid, Self.group)
        XCTAssertEqual(asUser("\(Self.group)", ["hello:decider:member"]).output, "welcome\n")
        let r = asUser(nil, ["hello:decider:outsider"])
        XCTAssertTrue(r.output.contains("PermissionError"), r.output)
    }

    func testThePeerIsCheckedEvenWhenTheSocketFileIsOpenToAll() throws {
        chmod(socketPath, 0o666)
        XCTAssertEqual(asUser(nil, ["hello:decider:intruder"]).output, "refused not-permitted\n")
        XCTAssertNotNil(log.wait { $0.message.contains("uid 1000 may not connect: the port admits root only (port_group is not set)") })
        XCTAssertEqual(server.clients.count, 0)
    }
}
