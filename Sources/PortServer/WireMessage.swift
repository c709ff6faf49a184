import FilterPort
import PortProtocol

/// What the agent sends a decider through the socket port: the event as the
/// wire carries it, a descriptor of the file when `pass_fd` is on, and the
/// deadline after which the message is of no use (CLOCK_MONOTONIC ns).
/// Immutable, and a class: the port copies a message several times on its
/// way to the socket, and each copy is then one reference, not the event's
/// path, names and content one by one.
public final class WireMessage: PortPayload {
    public let event: EventRecord
    public let descriptor: SharedDescriptor?
    public let deadline: UInt64

    public init(event: EventRecord, descriptor: SharedDescriptor?, deadline: UInt64) {
        self.event = event
        self.descriptor = descriptor
        self.deadline = deadline
    }

    public var byteCount: Int {
        16 + EventRecord.fixedSize + event.path.count + event.comm.count + event.exe.count + event.content.count
    }
}
