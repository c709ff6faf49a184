import Dispatch
import FilterPort
import FilterPortClient
import Glibc
import PortProtocol
import PortServer
import Synchronization
import TestSupport
import XCTest

/// Many threads of one `FilterPortClient` at once: untimed `getMessage`
/// calls all wait in the receive (the kernel wakes one a frame), while a
/// control request, a timed wait and a disconnect still get what is theirs.
final class ClientThreadsTests: XCTestCase {
    var folder = ""
    var server: PortServer!
    var port: FilterPort<WireMessage, ClientReply>!
    var frameTaker: DeciderFrameTaker?

    override func setUpWithError() throws {
        var template = Array("/tmp/fanfilter-client.XXXXXX".utf8CString)
        folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        chmod(folder, 0o755)
        let access = PortAccess(path: folder + "/port", group: getuid() == 0 ? nil : getgid(), maxDeciders: 4)
        server = try PortServer(access: access, logger: quietLogger())
        port = attachTestPort(to: server, backlogCapacity: 1024)
        server.onControl { command, _ in .ok("\(command)") }
        frameTaker = DeciderFrameTaker(server)
        server.start()
    }

    override func tearDown() {
        frameTaker?.stop()
        server?.stop()
        _ = Child(["/bin/rm", "-rf", folder]).wait()
    }

    func message(_ i: Int) -> WireMessage {
        WireMessage(event: EventRecord(access: .open, pid: 1, uid: 0, gid: 0, rule: 1, path: Array("/srv/\(i)".utf8), content: []),
                    descriptor: nil, deadline: DispatchTime.now().uptimeNanoseconds + 20_000_000_000)
    }

    func testFourMessageThreadsAControlRequestAndADisconnect() throws {
        let client = try FilterPortClient(path: folder + "/port", hello: Hello(role: .decider, name: "threads"))
        try client.prime(8)
        let answered = Atomic<Int>(0)
        let threads = DispatchGroup()
        let ends = Mutex<[String]>([])
        for _ in 0..<4 {
            DispatchQueue.global().async(group: threads) {
                do {
                    while let m = try client.getMessage() {
                        try client.reply(m.messageId, .allow, primeAgain: true)
                        answered.add(1, ordering: .relaxed)
                    }
                } catch {
                    ends.withLock { $0.append("\(error)") }
                }
            }
        }
        let replies = Atomic<Int>(0)
        let sent = DispatchGroup()
        for i in 0..<500 {
            sent.enter()
            port.send(message(i), replyCapacity: PortLimits.replyPayloadSize, timeout: .seconds(20)) { _, _, outcome in
                if case .replied = outcome { replies.add(1, ordering: .relaxed) }
                sent.leave()
            }
            if i == 250 {
                // While four threads wait in the receive: a control answer reaches its caller.
                let status = try client.sendToFilter(.status, timeout: .seconds(10))
                XCTAssertEqual(status.body, "status")
                XCTAssertNil(try client.noWaiterNotice(timeout: .milliseconds(10)), "a timed wait among them returns")
            }
        }
        XCTAssertEqual(sent.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(replies.load(ordering: .relaxed), 500)
        XCTAssertEqual(answered.load(ordering: .relaxed), 500)
        client.disconnect()
        XCTAssertEqual(threads.wait(timeout: .now() + 10), .success, "a disconnect ends every thread's wait")
        XCTAssertEqual(ends.withLock { $0.count }, 4)
    }
}
