/// What a permission event asks: open or execute.
public enum Access: String, Sendable, Equatable {
    case open, execute
}
