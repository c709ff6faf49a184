/// A fact as a test reads it.
enum FactValue {
    case number(UInt64)
    case bytes([UInt8])
}
