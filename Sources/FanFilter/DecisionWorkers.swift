import Dispatch
import FilterPort
import Policy

/// The decision threads: one client of the port, `count` threads, each
/// holding `prime` primed gets (the WDK scanner's requests per thread). A
/// worker takes a message, decides it, replies by message id and primes
/// again. A reply that finds no waiter (its event was already answered on
/// timeout) is counted, never written to the kernel.
final class DecisionWorkers: Sendable {
    typealias Decide = @Sendable (AccessRequest) -> Decision

    private let client: ClientPort<EventMessage, DecisionReply>
    private let counters: Counters
    private let decide: Decide
    private let done = DispatchGroup()

    init(port: FilterPort<EventMessage, DecisionReply>, count: Int, prime: Int,
         counters: Counters, decide: @escaping Decide) throws(PortError) {
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
            let decision = decide(message.payload.request)
            do {
                try client.reply(message.header.messageId, DecisionReply(decision: decision))
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
