import AgentCounts
import EventFacts
import Fanotify
import FilterPort
import Glibc
import Policy
import Synchronization
import SystemCall
import TrustStore

/// A policy in force, shared by reference by every message read under it
/// (one retain per event, not a copy of the policy), with the decision cache
/// that belongs to it: a reload starts with an empty one.
package final class ActivePolicy: Sendable {
    package let policy: Policy
    /// nil with `cache = off`.
    package let decisions: DecisionCache?
    /// A rule tests `sha256hash`, or `trust` with `integrity = sha256`: libcrypto is needed.
    package let hashes: Bool
    /// A rule tests `pattern`: every execution moves a process's start on.
    let tracksStarts: Bool
    /// A rule tests `pattern=ld_preload`: a starting process's environment is
    /// read (off the event reader); no rule, no read.
    let testsPreload: Bool
    /// `trust=1` and interpreters of ELF files, when a rule tests trust or ftype.
    package let trust: TrustChecker
    /// Why the trust database could not be opened, when a rule needs it.
    package let trustProblem: String?
    /// A rule tests trust (or ftype, whose ELF interpreters may be trusted).
    package let usesTrust: Bool
    /// Events each rule decided under this policy.
    package let ruleHits: RuleHits
    /// The policy file's bytes as it was put in force (nil: not a file, unreadable, or over 16 MiB).
    private let sourceBytes: [UInt8]?
    /// Their SHA-256, made at the first request (libcrypto is loaded only then).
    private let digestMade = Mutex<String??>(nil)

    /// - Parameter sourceBytes: the policy file's bytes, for `digest`.
    package init(_ policy: Policy, counters: Counters? = nil, sourceBytes: [UInt8]? = nil) {
        self.policy = policy
        self.sourceBytes = sourceBytes
        let tested = policy.rules.reduce(into: Facts()) { facts, rule in
            for test in rule.subject + rule.object { facts.formUnion(test.facts) }
        }
        hashes = !tested.isDisjoint(with: [.sha256, .sha512]) || (!tested.isDisjoint(with: [.trust, .exeTrust]) && policy.settings.integrity == .sha256)
        tracksStarts = tested.contains(.pattern)
        testsPreload = policy.rules.contains { rule in
            rule.subject.contains { test in
                test.attribute == .pattern && test.values.contains(.number(UInt64(StartPattern.ldPreload.rawValue)))
            }
        }
        var database: TrustDatabase?
        var problem: String?
        usesTrust = !tested.isDisjoint(with: [.trust, .exeTrust, .ftype, .exeType])
        if usesTrust {
            let path = String(decoding: policy.settings.trustDatabase, as: UTF8.self)
            do { database = try TrustDatabase(path: path) } catch {
                problem = "\(error): trust=1 matches no file until it is built (fanfilter trust update)"
            }
        }
        trust = TrustChecker(database: database, integrity: policy.settings.integrity)
        trustProblem = tested.isDisjoint(with: [.trust, .exeTrust]) ? nil : problem
        ruleHits = RuleHits(rules: policy.rules.count)
        decisions = policy.agent.cache == .off ? nil
            : DecisionCache(capacity: policy.agent.cacheSize, counters: counters)
    }

    /// The SHA-256 of the policy file as it was put in force (nil: not a file, or unreadable).
    package var digest: String? {
        digestMade.withLock { made in
            if let made { return made }
            let digest = sourceBytes.flatMap { bytes in
                LibCrypto.shared?.sha256Hex { update in bytes.withUnsafeBytes(update) }
            }.map { String(decoding: $0, as: UTF8.self) }
            made = .some(digest)
            return digest
        }
    }

    /// A policy file's bytes, read now, at most 16 MiB; nil when it cannot be read.
    package static func bytes(ofFile path: String) -> [UInt8]? { WholeFile.read(path, limit: 16 << 20) }
}
