import Policy
import PortServer

/// An event an `ask` rule leaves to the socket port's deciders, as a worker
/// hands it back to the port: its wire form (the frame a decider reads), the
/// rule, and what the answer is logged with. The port sends it again, in the
/// deciders' lane, and that message's outcome answers the event.
struct AskedEvent: Sendable {
    var wire: WireMessage
    var rule: Rule
    /// The facts the worker learned, for the log.
    var request: AccessRequest
    /// The path the opener used, when the decision was on another (see `ObjectPath`).
    var openedAs: [UInt8]?
}
