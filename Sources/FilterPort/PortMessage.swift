/// A message as a client gets it: the header, then the sender's payload.
public struct PortMessage<Payload: Sendable>: Sendable {
    public var header: MessageHeader
    public var payload: Payload
}
