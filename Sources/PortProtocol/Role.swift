/// What a connection is for, said in its hello.
public enum Role: UInt32, Sendable, CaseIterable {
    /// Decides `ask` events: primes gets and replies to messages.
    case decider = 0
    /// Receives a copy of every decision as it is made, and never replies.
    case observer = 1
    /// Sends control requests only (`fanfilter status`, `reload`, …).
    case control = 2
}
