/// Splits one line (without its newline) into words. Outside quotes, words end
/// at spaces or tabs and `#` at the start of a word begins a comment. Inside
/// double quotes every byte stands for itself except the escapes \\ \" \n \t
/// and \xHH (any byte but NUL); a backslash before anything else stands for
/// itself, as in fapolicyd 2.0.
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
                    // fapolicyd 2.0 keeps any other backslash as it is, so a
                    // glob's `\*` reaches the glob.
                    append(UInt8(ascii: "\\"), quoted: true); i += 1
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
