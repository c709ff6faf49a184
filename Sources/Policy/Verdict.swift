/// The kernel's answer to a permission event.
public enum Verdict: String, Sendable, Equatable {
    case allow, deny
}
