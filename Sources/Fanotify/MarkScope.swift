/// How much of a filesystem a watch marks.
public enum MarkScope: String, Sendable {
    case filesystem, mount
}
