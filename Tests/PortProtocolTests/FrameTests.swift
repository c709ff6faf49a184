import PortProtocol
import XCTest

/// Every frame survives encoding and decoding; any other bytes give a
/// FrameError that says what was wrong, never a crash and never a frame.
final class FrameTests: XCTestCase {
    let event = EventRecord(access: .execute, pid: 4242, uid: 1000, gid: 100, device: 0x801, inode: 77, rule: 3,
                            hasDescriptor: true, fileSize: 12, path: Array("/srv/a b\n\u{FF}".utf8) + [0xFF],
                            comm: Array("cat".utf8), exe: Array("/usr/bin/cat".utf8), content: Array("hello world!".utf8))

    var clientFrames: [ClientFrame] {
        [.hello(Hello(role: .decider, accesses: .open, rules: [1, 7], name: "scanner")),
         .hello(Hello(role: .observer, deniedOnly: true, name: "monitor")),
         .prime(count: 1), .prime(count: 1024),
         .reply(messageId: 99, .deny), .reply(status: -5, messageId: 1, payload: [1, 2, 3, 4, 5, 6, 7, 8]),
         .control(requestId: 9, command: 2, argument: Array("json".utf8))]
    }

    var agentFrames: [AgentFrame] {
        [.welcome(version: 1, connectionId: 5, maxFrame: 4096, maxPrimed: 1024),
         .refused(.notPermitted, reason: "uid 1000 may not connect"),
         .message(replyLength: 4, messageId: 12, event: event),
         .error(.noWaiter, messageId: 12, reason: "late"),
         .controlReply(requestId: 9, status: 0, body: Array("{}".utf8)),
         .decision(DecisionRecord(sequence: 8, lost: 2, access: .open, pid: 1, verdict: .deny, notEnforced: true,
                                  source: .client, rule: 3, path: Array("/x".utf8), client: Array("scanner".utf8)))]
    }

    func testEveryFrameRoundTrips() throws {
        for frame in clientFrames { XCTAssertEqual(try ClientFrame.decode(frame.encode()), frame) }
        for frame in agentFrames { XCTAssertEqual(try AgentFrame.decode(frame.encode()), frame) }
    }

    func testTheLayoutIsTheOneThePageDocuments() {
        // docs/port-protocol.md: a message's event starts at 16, its variable part at 76.
        let bytes = AgentFrame.message(replyLength: 4, messageId: 0x0102030405060708, event: event).encode()
        XCTAssertEqual(Array(bytes[0..<4]), [0x03, 0x01, 0, 0])
        XCTAssertEqual(Array(bytes[8..<16]), [8, 7, 6, 5, 4, 3, 2, 1])
        XCTAssertEqual(Array(bytes[16..<20]), [2, 0, 0, 0], "access: execute")
        XCTAssertEqual(EventRecord.fixedSize + 16, 76)
        XCTAssertEqual(Array(bytes[76..<80]), Array("/srv".utf8))
        XCTAssertEqual(ClientFrame.reply(messageId: 1, .allow).encode(), [3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
    }

    func testTheFlagsWordCarriesTheDescriptorAndTheReadersBacklogAndIgnoresOtherBits() throws {
        var busy = event
        busy.hasDescriptor = false
        busy.moreEventsWaiting = true
        var bytes = AgentFrame.message(replyLength: 4, messageId: 1, event: busy).encode()
        XCTAssertEqual(Array(bytes[52..<56]), [2, 0, 0, 0], "flags at 52: bit 1, more events waiting")
        XCTAssertEqual(try AgentFrame.decode(bytes), .message(replyLength: 4, messageId: 1, event: busy))
        bytes[52] |= 0xF1
        bytes[55] = 0x80
        busy.hasDescriptor = true
        XCTAssertEqual(try AgentFrame.decode(bytes), .message(replyLength: 4, messageId: 1, event: busy),
                       "bits a client does not know are hints it may ignore")
    }

    func testEveryShorterPrefixIsRefusedNeverMisread() {
        for frame in clientFrames {
            let bytes = frame.encode()
            for n in 0..<bytes.count {
                guard let decoded = try? ClientFrame.decode(Array(bytes[..<n])) else { continue }
                // A reply or control frame's tail is its payload: a prefix is still one frame, with less payload.
                switch decoded {
                case .reply, .control: continue
                default: XCTFail("a \(n)-byte prefix of \(frame) decoded as \(decoded)")
                }
            }
        }
        for frame in agentFrames {
            let bytes = frame.encode()
            for n in 0..<bytes.count {
                guard let decoded = try? AgentFrame.decode(Array(bytes[..<n])) else { continue }
                switch decoded {
                case .refused, .error, .controlReply: continue
                default: XCTFail("a \(n)-byte prefix of \(frame) decoded as \(decoded)")
                }
            }
        }
    }

    func testBadFramesSayWhatWasWrong() {
        func code(_ bytes: [UInt8]) -> PortErrorCode? {
            do { _ = try ClientFrame.decode(bytes); return nil } catch { return error.code }
        }
        XCTAssertEqual(code([]), .malformed)
        XCTAssertEqual(code([9, 0, 0, 0]), .unknownType)
        XCTAssertEqual(code([3, 1, 0, 0]), .unknownType, "an agent's frame type from a client")
        XCTAssertEqual(code([UInt8](repeating: 4, count: 4097)), .oversized)
        XCTAssertEqual(code(ClientFrame.prime(count: 1).encode() + [0]), .malformed, "bytes after the last field")
        XCTAssertEqual(code([2, 0, 0, 0, 0, 0, 0, 0]), .malformed, "prime 0")
        XCTAssertEqual(code([2, 0, 0, 0, 1, 4, 0, 0]), .malformed, "prime 1025")
        let hello = ClientFrame.hello(Hello(role: .decider, name: "ok")).encode()
        var noAccess = hello
        noAccess[12] = 0
        XCTAssertEqual(code(noAccess), .malformed, "a decider that serves nothing")
        var badRole = hello
        badRole[8] = 7
        XCTAssertEqual(code(badRole), .malformed)
        XCTAssertEqual(code(ClientFrame.hello(Hello(role: .decider, name: "a\nb")).encode()), .malformed, "a name with a newline")
        XCTAssertEqual(code(ClientFrame.hello(Hello(role: .decider, name: "")).encode()), .malformed, "an empty name")
        XCTAssertEqual(code(ClientFrame.hello(Hello(role: .decider, name: String(repeating: "n", count: 65))).encode()), .malformed)
        XCTAssertEqual(code(ClientFrame.hello(Hello(role: .decider, rules: Array(0..<257), name: "r")).encode()), .malformed)
        var lying = hello
        lying[20] = 60  // a name length past the frame's end
        XCTAssertEqual(code(lying), .malformed)
        do { _ = try ClientFrame.decode(lying) } catch {
            XCTAssertEqual(error.description, "malformed: hello: 60 bytes announced, 2 left in the frame")
        }
    }

    func testAMessageWhoseLengthsDoNotAddUpIsRefused() {
        var bytes = AgentFrame.message(replyLength: 4, messageId: 1, event: event).encode()
        bytes[72] &+= 1  // one more content byte announced than there is
        XCTAssertThrowsError(try AgentFrame.decode(bytes))
        bytes[72] &-= 2  // one fewer: a byte left after the last field
        XCTAssertThrowsError(try AgentFrame.decode(bytes))
    }

    func testAReplyCarriesAVerdictOnlyWhenItIsExactlyOne() {
        XCTAssertEqual(ClientFrame.verdict(of: [1, 0, 0, 0]), .allow)
        XCTAssertEqual(ClientFrame.verdict(of: [2, 0, 0, 0]), .deny)
        XCTAssertNil(ClientFrame.verdict(of: [3, 0, 0, 0]))
        XCTAssertNil(ClientFrame.verdict(of: [1, 0, 0]))
        XCTAssertNil(ClientFrame.verdict(of: [1, 0, 0, 0, 0]))
    }

    func testADeciderServesWhatItSaid() {
        let all = Hello(role: .decider, name: "a")
        XCTAssertTrue(all.serves(.open, rule: 9))
        let some = Hello(role: .decider, accesses: .execute, rules: [2, 3], name: "b")
        XCTAssertTrue(some.serves(.execute, rule: 3))
        XCTAssertFalse(some.serves(.open, rule: 3))
        XCTAssertFalse(some.serves(.execute, rule: 4))
        XCTAssertFalse(Hello(role: .observer, name: "o").serves(.open, rule: 1))
    }
}
