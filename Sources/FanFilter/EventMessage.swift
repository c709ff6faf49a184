import FilterPort
import Policy

/// What crosses the port from the event reader to a worker: the access to
/// decide, and the event fd it answers (which only the port's outcome handler
/// touches).
struct EventMessage: PortPayload {
    var eventFD: Int32
    var request: AccessRequest

    var byteCount: Int {
        32 + (request.path?.count ?? 0) + (request.subject.exe?.count ?? 0) + (request.subject.comm?.count ?? 0)
    }
}

/// A worker's answer: the policy's decision.
struct DecisionReply: PortPayload {
    var decision: Decision
    var byteCount: Int { 16 }

    /// What a reply may take: a verdict and a rule number.
    static let capacity = 16
}
