/// Anything that crosses a port. `byteCount` is its size on the wire, which a
/// reply must fit into the sender's `replyCapacity`.
public protocol PortPayload: Sendable {
    var byteCount: Int { get }
}

extension Array: PortPayload where Element == UInt8 {
    public var byteCount: Int { count }
}
