import Policy
import PortServer

/// An event an `ask` rule leaves to the socket port's deciders, as a worker
/// hands it back to the port: its wire form (the frame a decider reads), the
/// rule, and what the answer is logged with. The port sends it again, in the
/// deciders' lane, and that message's outcome answers the event.
/// Immutable, and a class: every `EventMessage` holds one optionally, and the
/// port copies messages, so an event that asks no one carries one nil
/// pointer, not the learned facts' room.
package final class AskedEvent: Sendable {
    package let wire: WireMessage
    package let rule: Rule
    /// The facts the worker learned, for the log.
    package let request: AccessRequest
    /// The path the opener used, when the decision was on another (see `ObjectPath`).
    package let openedAs: [UInt8]?

    init(wire: WireMessage, rule: Rule, request: AccessRequest, openedAs: [UInt8]?) {
        self.wire = wire
        self.rule = rule
        self.request = request
        self.openedAs = openedAs
    }
}
