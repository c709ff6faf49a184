import Glibc
import PortTransport
import XCTest

/// `SeqPacketSocket.tryReceive(into:limit:)`: the frames waiting on a socket,
/// several with one system call, each whole or marked truncated, with the
/// descriptor it carried; none waiting is 0, never a wait; the end of the
/// stream is a frame of length 0.
final class ReceiveBatchTests: XCTestCase {
    private var ends: (SeqPacketSocket, SeqPacketSocket)!

    override func setUpWithError() throws {
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &fds), 0)
        ends = (SeqPacketSocket(adopting: fds[0]), SeqPacketSocket(adopting: fds[1]))
    }

    func testSeveralWaitingFramesComeInOneReceiveEachWhole() throws {
        let (writer, reader) = ends!
        for n in 1...5 { try writer.send([UInt8](repeating: UInt8(n), count: n * 10)) }
        let batch = ReceiveBatch(capacity: 8, frameCapacity: 64)
        XCTAssertEqual(try reader.tryReceive(into: batch, limit: 8), 5)
        for i in 0..<5 {
            XCTAssertEqual(batch[i].bytes, [UInt8](repeating: UInt8(i + 1), count: (i + 1) * 10))
            XCTAssertFalse(batch[i].truncated)
            XCTAssertEqual(batch[i].descriptor, -1)
        }
        XCTAssertEqual(try reader.tryReceive(into: batch, limit: 8), 0, "none left: 0, at once")
    }

    func testTheLimitAndTheCapacityBoundOneReceive() throws {
        let (writer, reader) = ends!
        for n in 0..<20 { try writer.send([UInt8(n)]) }
        let batch = ReceiveBatch(capacity: 4, frameCapacity: 8)
        XCTAssertEqual(try reader.tryReceive(into: batch, limit: 3), 3)
        XCTAssertEqual(try reader.tryReceive(into: batch, limit: 100), 4)
        XCTAssertEqual(batch[0].bytes, [3], "in order, none lost")
        XCTAssertEqual(batch[3].bytes, [6])
    }

    func testALongFrameIsCutAtTheFrameCapacityAndSaysHowLongItWas() throws {
        let (writer, reader) = ends!
        try writer.send([UInt8](repeating: 7, count: 100))
        try writer.send([1, 2])
        let batch = ReceiveBatch(capacity: 4, frameCapacity: 16)
        XCTAssertEqual(try reader.tryReceive(into: batch, limit: 4), 2)
        XCTAssertTrue(batch[0].truncated)
        XCTAssertEqual(batch[0].length, 100)
        XCTAssertEqual(batch[0].bytes.count, 16)
        XCTAssertEqual(batch[1].bytes, [1, 2], "the next frame is untouched by the cut")
    }

    func testADescriptorComesWithItsFrame() throws {
        let (writer, reader) = ends!
        let file = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        try writer.send([9])
        try writer.send([8], passing: file)
        let batch = ReceiveBatch(capacity: 4, frameCapacity: 16)
        XCTAssertEqual(try reader.tryReceive(into: batch, limit: 4), 2)
        XCTAssertEqual(batch[0].descriptor, -1)
        let got = batch[1].descriptor
        XCTAssertGreaterThanOrEqual(got, 0)
        XCTAssertNotEqual(got, file, "a descriptor of the receiver's own")
        XCTAssertEqual(fcntl(got, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
        close(got)
    }

    func testCloseDescriptorsClosesEveryOneTheReceiveBrought() throws {
        let (writer, reader) = ends!
        let file = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        for _ in 0..<3 { try writer.send([1], passing: file) }
        let batch = ReceiveBatch(capacity: 4, frameCapacity: 16)
        XCTAssertEqual(try reader.tryReceive(into: batch, limit: 4), 3)
        let received = (0..<3).map { batch[$0].descriptor }
        batch.closeDescriptors()
        for fd in received {
            XCTAssertEqual(fcntl(fd, F_GETFD), -1, "descriptor \(fd) closed")
        }
        XCTAssertEqual(batch[0].descriptor, -1)
        XCTAssertEqual(batch[2].bytes, [1], "the frames themselves stay")
    }

    func testTheEndOfTheStreamIsAFrameOfLengthZero() throws {
        let (writer, reader) = ends!
        try writer.send([1])
        writer.close()
        let batch = ReceiveBatch(capacity: 4, frameCapacity: 16)
        let count = try reader.tryReceive(into: batch, limit: 4)
        XCTAssertGreaterThanOrEqual(count, 2)
        XCTAssertEqual(batch[0].bytes, [1])
        XCTAssertEqual(batch[1].length, 0)
    }
}
