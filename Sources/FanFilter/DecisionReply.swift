import FilterPort
import Glibc
import Policy

/// A worker's answer: the policy's decision, and whether it may be cached in
/// the kernel (an allow any process would get for this file).
struct DecisionReply: PortPayload {
    var decision: Decision
    var cacheable: Bool
    /// The setting that answered when no rule could (`on_timeout`, `on_no_client`, …), for observers.
    var setting: String? = nil
    /// The socket port's client that decided, for observers.
    var client: String? = nil
    var byteCount: Int { 16 }

    /// What a reply may take: a verdict and a rule number.
    static let capacity = 16
}
