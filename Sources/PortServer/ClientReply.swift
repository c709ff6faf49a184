import FilterPort

/// A decider's reply as the port carries it to the sender: the payload the
/// client sent (its size is checked against the sender's reply capacity)
/// and the name the client gave in its hello, for the log.
public struct ClientReply: PortPayload {
    public var payload: [UInt8]
    public var client: String
    public var byteCount: Int { payload.count }
}
