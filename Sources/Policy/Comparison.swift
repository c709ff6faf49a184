/// How a test compares: `=` any of the values, `!=` none of them, or an order (numbers only).
public enum Comparison: String, Sendable, Equatable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case lessOrEqual = "<="
    case greaterOrEqual = ">="
    case less = "<"
    case greater = ">"
}
