/// The access an event is for, as the wire carries it.
public enum WireAccess: UInt32, Sendable {
    case open = 1
    case execute = 2

    public var mask: AccessMask { self == .open ? .open : .execute }
}
