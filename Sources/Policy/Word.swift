/// One whitespace-separated word of a policy line, unescaped.
struct Word: Equatable {
    var bytes: [UInt8]
    /// 1-based byte column of the word's first byte.
    var column: Int
    /// For each byte, whether it came from inside quotes.
    var quoted: [Bool] = []

    init(bytes: [UInt8], column: Int, quoted: [Bool]? = nil) {
        self.bytes = bytes
        self.column = column
        self.quoted = quoted ?? [Bool](repeating: false, count: bytes.count)
    }

    var isQuoted: Bool { quoted.contains(true) }

    /// The bytes from `start` on, as a word of their own.
    func suffix(from start: Int) -> Word {
        Word(bytes: Array(bytes[start...]), column: column + start, quoted: Array(quoted[start...]))
    }

    /// Splits at every unquoted `separator`.
    func split(at separator: UInt8) -> [Word] {
        var out: [Word] = []
        var start = 0
        for i in bytes.indices where bytes[i] == separator && !quoted[i] {
            out.append(Word(bytes: Array(bytes[start..<i]), column: column + start, quoted: Array(quoted[start..<i])))
            start = i + 1
        }
        out.append(suffix(from: start))
        return out
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Splits `attr=value`, `attr!=value`, `attr<value` (and `<=`, `>`, `>=`)
    /// at the first unquoted operator. Returns nil when there is none.
    func splitTest() -> (name: String, comparison: Comparison, value: Word)? {
        let operators: Set<UInt8> = [UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">")]
        guard let at = bytes.indices.first(where: { operators.contains(bytes[$0]) && !quoted[$0] }) else { return nil }
        let name = String(decoding: bytes[..<at], as: UTF8.self)
        let next = at + 1 < bytes.count && !quoted[at + 1] ? bytes[at + 1] : nil
        let comparison: Comparison
        var length = 1
        switch (bytes[at], next) {
        case (UInt8(ascii: "!"), UInt8(ascii: "=")): comparison = .notEqual; length = 2
        case (UInt8(ascii: "<"), UInt8(ascii: "=")): comparison = .lessOrEqual; length = 2
        case (UInt8(ascii: ">"), UInt8(ascii: "=")): comparison = .greaterOrEqual; length = 2
        case (UInt8(ascii: "<"), _): comparison = .less
        case (UInt8(ascii: ">"), _): comparison = .greater
        case (UInt8(ascii: "="), _): comparison = .equal
        default: return nil
        }
        return (name, comparison, suffix(from: at + length))
    }
}
