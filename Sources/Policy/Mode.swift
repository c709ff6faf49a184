/// enforce: answer as decided. permissive: decide and log, but always allow.
/// observe: notification events only; decide and log as permissive, never block.
public enum Mode: String, Sendable, Equatable, CaseIterable {
    case enforce, permissive, observe
}
