import CPortSocket
import Glibc
import SystemPackage

/// Room for the frames one system call receives (`SeqPacketSocket.tryReceive(into:)`):
/// up to `capacity` frames of at most `frameCapacity` bytes each, in one
/// buffer allocated once and reused by every receive. One receiver at a
/// time: whoever holds it owns its frames until the next receive.
public final class ReceiveBatch {
    /// How many frames one receive takes at most.
    public let capacity: Int
    /// How many bytes of each frame are kept (a longer one comes back truncated).
    public let frameCapacity: Int
    /// How many frames the last receive took.
    public private(set) var count = 0
    private let buffer: UnsafeMutableRawBufferPointer
    private var lengths: [Int]
    private var descriptors: [Int32]

    public init(capacity: Int, frameCapacity: Int) {
        self.capacity = max(1, min(capacity, Int(CPORT_RECEIVE_MANY_MAX)))
        self.frameCapacity = frameCapacity
        buffer = .allocate(byteCount: self.capacity * frameCapacity, alignment: 8)
        lengths = Array(repeating: 0, count: self.capacity)
        descriptors = Array(repeating: -1, count: self.capacity)
    }

    deinit { buffer.deallocate() }

    /// Frame `i` of the last receive (`i < count`), its bytes copied out.
    public subscript(i: Int) -> SeqPacketSocket.Received {
        precondition(i < count, "frame \(i) of a batch of \(count)")
        let start = buffer.baseAddress! + i * frameCapacity
        let kept = min(lengths[i], frameCapacity)
        return SeqPacketSocket.Received(bytes: Array(UnsafeRawBufferPointer(start: start, count: kept)),
                                        length: lengths[i], descriptor: descriptors[i])
    }

    /// Closes every descriptor the last receive brought (for a receiver that
    /// keeps none): done at once, none is left open when a frame before it
    /// ends the receiver's reading. Frames then say they carried none.
    public func closeDescriptors() {
        for i in 0..<count where descriptors[i] >= 0 {
            try? FileDescriptor(rawValue: descriptors[i]).close()
            descriptors[i] = -1
        }
    }

    /// Receives up to `limit` frames from `fd` without waiting: how many, or -errno.
    func receive(from fd: Int32, limit: Int) -> Int {
        count = 0
        let n = lengths.withUnsafeMutableBufferPointer { l in
            descriptors.withUnsafeMutableBufferPointer { d in
                cport_receive_many(fd, buffer.baseAddress, frameCapacity, Int32(min(limit, capacity)), l.baseAddress, d.baseAddress)
            }
        }
        if n > 0 { count = Int(n) }
        return Int(n)
    }
}
