import Dispatch
import FilterPort
import Policy

/// The decision threads: one client of the port, `count` threads, each
/// holding `prime` primed gets (the WDK scanner's requests per thread). A
/// worker takes a message, completes the facts the policy needs that cost a
/// read of the file (its hash), decides it under the policy the message
/// carries, replies by message id and primes again. A reply that finds no
/// waiter (its event was already answered on timeout) is counted, never
/// written to the kernel.
final class DecisionWorkers: Sendable {
    typealias Decide = @Sendable (AccessRequest) -> Decision

    private let client: ClientPort<EventMessage, DecisionReply>
    private let counters: Counters
    private let decide: Decide?
    private let hasher = ObjectHasher()
    private let done = DispatchGroup()

    /// - Parameter decide: replaces the policy's decision (tests use it to stall).
    init(port: FilterPort<EventMessage, DecisionReply>, count: Int, prime: Int,
         counters: Counters, decide: Decide?) throws(PortError) {
        client = try port.connect(context: Array("fanfilter-workers".utf8))
        self.counters = counters
        self.decide = decide
        try client.prime(count * prime)
        for n in 0..<count {
            DispatchQueue(label: "fanfilter.worker.\(n)").async(group: done) { [self] in work() }
        }
    }

    private func work() {
        while let message = try? client.getMessage() {
            let policy = message.payload.policy.policy
            var request = message.payload.request
            if policy.neededFacts(for: request.access).contains(.sha256) {
                request.object.sha256 = hasher.sha256(of: message.payload.file.fd, maxSize: policy.settings.hashMaxSize)
            }
            let decision = decide?(request) ?? policy.decide(request)
            // A decision made by `decide` (tests) is never cached: the policy did not make it.
            let cacheable = decide == nil && policy.settings.cache == .kernel && message.payload.group.permission
                && policy.allowsForEveryProcess(request, decision)
            do {
                try client.reply(message.header.messageId, DecisionReply(decision: decision, cacheable: cacheable))
            } catch {
                counters.increment(.lateReplies)
            }
            try? client.prime()
        }
    }

    /// Disconnects (every unanswered message ends `.disconnected`) and waits
    /// for the threads to leave.
    func stop() {
        client.disconnect()
        done.wait()
    }
}
