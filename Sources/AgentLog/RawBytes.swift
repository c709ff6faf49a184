/// A log metadata value that keeps its bytes as they are (a path that is not
/// UTF-8, or holds a newline): the journal gets them unchanged, stderr escaped.
public struct RawBytes: CustomStringConvertible, Sendable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
