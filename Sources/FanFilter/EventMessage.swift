import FilterPort
import Policy

/// What crosses the port from the event reader to a worker: the access to
/// decide, and the event fd it answers (which only the port's outcome handler
/// touches).
struct EventMessage: PortPayload {
    var eventFD: Int32
    var request: AccessRequest

    var byteCount: Int {
        let path = request.object.path?.count ?? 0
        let exe = request.subject.exe?.count ?? 0
        let comm = request.subject.comm?.count ?? 0
        return 32 + path + exe + comm
    }
}

/// A worker's answer: the policy's decision.
struct DecisionReply: PortPayload {
    var decision: Decision
    var byteCount: Int { 16 }

    /// What a reply may take: a verdict and a rule number.
    static let capacity = 16
}
