/// Reads little-endian fields from a frame, front to back. Every read checks
/// the length first, so a short frame is a `FrameError`, never a crash.
public struct ByteReader {
    private let bytes: [UInt8]
    /// What the frame is, for errors (a constant: naming it costs nothing per frame).
    private let what: StaticString
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], at offset: Int = 0, what: StaticString) {
        self.bytes = bytes
        self.offset = offset
        self.what = what
    }

    public var remaining: Int { bytes.count - offset }

    public mutating func u16() throws(FrameError) -> UInt16 { UInt16(truncatingIfNeeded: try integer(2)) }
    public mutating func u32() throws(FrameError) -> UInt32 { UInt32(truncatingIfNeeded: try integer(4)) }
    public mutating func i32() throws(FrameError) -> Int32 { Int32(bitPattern: try u32()) }
    public mutating func u64() throws(FrameError) -> UInt64 { try integer(8) }

    public mutating func bytes(_ count: Int) throws(FrameError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw FrameError(.malformed, "\(what): \(count) bytes announced, \(max(0, remaining)) left in the frame")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// The frame must end here.
    public func end() throws(FrameError) {
        guard remaining == 0 else { throw FrameError(.malformed, "\(what): \(remaining) bytes after the last field") }
    }

    private mutating func integer(_ size: Int) throws(FrameError) -> UInt64 {
        guard size <= remaining else {
            throw FrameError(.malformed, "\(what): the frame ends at byte \(bytes.count), inside a field at \(offset)")
        }
        var value: UInt64 = 0
        for i in 0..<size { value |= UInt64(bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }
}
