import Clocks
import Logging
import Synchronization

/// The warnings about clients (refused, cut off for breaking the protocol),
/// at most `perSecond` a second: a client that connects and misbehaves
/// 10,000 times a second must not flood the journal. The warnings held back
/// are counted and said in one line with the next warning of a later second.
final class ClientProblemLog: Sendable {
    static let perSecond = 10
    private let logger: Logger
    private let state = Mutex((second: Int64(0), written: 0, held: 0))

    init(logger: Logger) { self.logger = logger }

    func warning(_ message: String) {
        let now = SystemClock().seconds()
        let (write, heldBefore) = state.withLock { s -> (Bool, Int) in
            var held = 0
            if s.second != now {
                held = s.held
                s = (now, 0, 0)
            }
            guard s.written < Self.perSecond else {
                s.held += 1
                return (false, held)
            }
            s.written += 1
            return (true, held)
        }
        if heldBefore > 0 {
            logger.warning("port: \(heldBefore) more warnings about clients were held back (at most \(Self.perSecond) a second)")
        }
        if write { logger.warning("\(message)") }
    }
}
