/// A decider's answer, the reply's payload.
public enum WireVerdict: UInt32, Sendable {
    case allow = 1
    case deny = 2
}
