/// Builds a frame of little-endian fields.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []

    public init(type: FrameType, capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
        u32(type.rawValue)
    }

    public mutating func u16(_ v: UInt16) { integer(UInt64(v), 2) }
    public mutating func u32(_ v: UInt32) { integer(UInt64(v), 4) }
    public mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    public mutating func u64(_ v: UInt64) { integer(v, 8) }
    public mutating func append<C: Collection>(_ more: C) where C.Element == UInt8 { bytes.append(contentsOf: more) }

    private mutating func integer(_ v: UInt64, _ size: Int) {
        for i in 0..<size { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
}
