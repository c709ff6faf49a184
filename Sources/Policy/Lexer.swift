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

/// A lexing problem at a 1-based column.
struct LexProblem: Error, Equatable {
    var column: Int
    var message: String
}

/// Splits one line (without its newline) into words. Outside quotes, words end
/// at spaces or tabs and `#` at the start of a word begins a comment. Inside
/// double quotes every byte stands for itself except the escapes \\ \" \n \t
/// and \xHH (any byte but NUL).
func lexLine(_ line: ArraySlice<UInt8>) -> Result<[Word], LexProblem> {
    var words: [Word] = []
    var i = line.startIndex
    let end = line.last == UInt8(ascii: "\r") ? line.endIndex - 1 : line.endIndex
    func column(_ index: Int) -> Int { index - line.startIndex + 1 }

    if let nul = line[..<end].firstIndex(of: 0) {
        return .failure(LexProblem(column: column(nul), message: "a NUL byte in the line (a policy is text; no value can hold one)"))
    }
    while i < end {
        let c = line[i]
        if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { i += 1; continue }
        if c == UInt8(ascii: "#") { break }
        var word = Word(bytes: [], column: column(i))
        func append(_ byte: UInt8, quoted: Bool) {
            word.bytes.append(byte)
            word.quoted.append(quoted)
        }
        while i < end, line[i] != UInt8(ascii: " "), line[i] != UInt8(ascii: "\t") {
            guard line[i] == UInt8(ascii: "\"") else {
                append(line[i], quoted: false)
                i += 1
                continue
            }
            let open = i
            i += 1
            while true {
                guard i < end else { return .failure(LexProblem(column: column(open), message: "unterminated quote")) }
                let q = line[i]
                if q == UInt8(ascii: "\"") { i += 1; break }
                guard q == UInt8(ascii: "\\") else { append(q, quoted: true); i += 1; continue }
                guard i + 1 < end else { return .failure(LexProblem(column: column(i), message: "unterminated quote")) }
                switch line[i + 1] {
                case UInt8(ascii: "\\"): append(UInt8(ascii: "\\"), quoted: true); i += 2
                case UInt8(ascii: "\""): append(UInt8(ascii: "\""), quoted: true); i += 2
                case UInt8(ascii: "n"): append(10, quoted: true); i += 2
                case UInt8(ascii: "t"): append(9, quoted: true); i += 2
                case UInt8(ascii: "x"):
                    guard i + 3 < end, let hi = hexValue(line[i + 2]), let lo = hexValue(line[i + 3]) else {
                        return .failure(LexProblem(column: column(i), message: "\\x takes two hex digits"))
                    }
                    let byte = hi << 4 | lo
                    if byte == 0 { return .failure(LexProblem(column: column(i), message: "a value cannot contain a NUL byte")) }
                    append(byte, quoted: true)
                    i += 4
                default:
                    return .failure(LexProblem(column: column(i), message: "unknown escape '\\\(Character(Unicode.Scalar(line[i + 1])))' (use \\\\ \\\" \\n \\t or \\xHH)"))
                }
            }
        }
        words.append(word)
    }
    return .success(words)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}
