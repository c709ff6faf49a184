import Logging
import Policy
import Synchronization

/// The lines the agent writes about decisions, one per logged decision:
/// `deny execute /tmp/x by /usr/bin/sh[1234] uid=1000 rule=/etc/fanfilter/policy:12`.
struct DecisionLog: Sendable {
    let logger: Logger

    func decision(_ request: AccessRequest, _ decision: Decision, wouldDeny: Bool) {
        let s = request.subject
        var line: String = wouldDeny ? "would deny" : decision.verdict.rawValue
        line += request.access == .execute ? " execute " : " open "
        line += request.object.path.map { printable($0) } ?? "(unknown path)"
        line += " by \(s.exe.map { printable($0) } ?? "?")[\(s.pid)]"
        line += " uid=\(s.uid.map(String.init) ?? "?")"
        if let rule = decision.rule {
            line += " rule=\(rule.location.file):\(rule.location.line)"
        }
        logger.log(level: decision.verdict == .deny ? .warning : .notice, "\(line)")
    }

    /// Logs `message` when its count `n` is 1, 2, 4, 8 …, so a
    /// storm is visible without flooding the log.
    func occasionally(_ n: UInt64, _ message: String) {
        guard n & (n - 1) == 0 else { return }
        logger.warning("\(message) [\(n) so far]")
    }
}
