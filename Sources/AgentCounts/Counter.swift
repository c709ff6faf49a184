import Synchronization

/// The agent's running totals. Every permission event read counts once in
/// `events` and once in `responses` when answered.
public enum Counter: Int, CaseIterable, Sendable {
    case events
    case open
    case execute
    case responses
    case allowed
    case denied
    /// Denials that permissive mode turned into allows.
    case wouldDeny
    case timedOut
    case overloaded
    /// Worker replies that came after their event was answered (no waiter).
    case lateReplies
    /// Events left with no worker to decide them (only while stopping).
    case noWorker
    /// `ask` events no client answered because none served them or the one
    /// that had them left (`on_no_client`, `on_disconnect`).
    case clientGone
    /// Events of the agent's own process, allowed at once.
    case ownProcess
    /// Responses the kernel refused.
    case responseErrors
    /// Notification events the kernel dropped (observe mode, FAN_Q_OVERFLOW).
    case queueOverflows
    /// Policies put in force by reload.
    case reloads
    /// Ignore marks placed for allows any process would get (cache = kernel).
    case ignoreMarks
    /// Times every ignore mark was dropped (reloads, folders moved, lost notifications).
    case cacheFlushes
    /// Files moved or given a second name whose own ignore marks were dropped.
    case cacheDrops
    /// Decisions found in the agent's own cache (or evaluated once for several workers).
    case cacheHits
    /// Decisions the agent's own cache did not have.
    case cacheMisses
    /// Events the kernel denied itself because it could not give the agent
    /// a file descriptor for them (RLIMIT_NOFILE reached): never decided.
    case kernelDenied
    /// Times the reader left events in the kernel's queue for want of file
    /// descriptors, until answered events closed theirs (`DescriptorBudget`).
    case descriptorWaits
    /// Events the event reader decided itself, through the port, with no
    /// worker woken (see `DecisionWorkers.sendAndDecide`).
    case readerDecided
    /// Files whose contents were read for a digest (sha256hash, trust with
    /// integrity = sha256); a cached digest is not counted.
    case filesHashed
    /// Files whose contents were read for their type (ftype); a cached type is not counted.
    case filesTyped
    /// Trust checks answered by a file's fs-verity digest, with no read of its contents.
    case verityChecks

    /// The name STATUS= and the logs give it.
    public var name: String {
        switch self {
        case .events: "events"
        case .open: "open"
        case .execute: "execute"
        case .responses: "responses"
        case .allowed: "allowed"
        case .denied: "denied"
        case .wouldDeny: "would-deny"
        case .timedOut: "timed-out"
        case .overloaded: "overloaded"
        case .lateReplies: "late-replies"
        case .noWorker: "no-worker"
        case .clientGone: "client-gone"
        case .ownProcess: "own-process"
        case .responseErrors: "response-errors"
        case .queueOverflows: "queue-overflows"
        case .reloads: "reloads"
        case .ignoreMarks: "ignore-marks"
        case .cacheFlushes: "cache-flushes"
        case .cacheDrops: "cache-drops"
        case .cacheHits: "cache-hits"
        case .cacheMisses: "cache-misses"
        case .kernelDenied: "kernel-denied"
        case .descriptorWaits: "descriptor-waits"
        case .readerDecided: "reader-decided"
        case .filesHashed: "files-hashed"
        case .filesTyped: "files-typed"
        case .verityChecks: "verity-checks"
        }
    }
}
