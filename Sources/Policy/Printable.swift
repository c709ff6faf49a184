/// Path bytes as text that a person can read and a policy can quote back:
/// valid UTF-8 stays as it is; control bytes, backslashes, double quotes and
/// bytes that are not UTF-8 become the escapes a quoted policy value takes
/// (\n \t \\ \" \xHH).
public func printable<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var out = ""
    out.reserveCapacity(bytes.count)
    var i = bytes.startIndex
    while i < bytes.endIndex {
        let b = bytes[i]
        switch b {
        case 0x0A: out += "\\n"
        case 0x09: out += "\\t"
        case UInt8(ascii: "\\"): out += "\\\\"
        case UInt8(ascii: "\""): out += "\\\""
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
        case 0xC2...0xF4:
            // A multi-byte UTF-8 sequence stays whole when it decodes.
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
            let end = bytes.index(i, offsetBy: length, limitedBy: bytes.endIndex) ?? bytes.endIndex
            var decoder = UTF8()
            var iterator = bytes[i..<end].makeIterator()
            if bytes.distance(from: i, to: end) == length, case .scalarValue(let scalar) = decoder.decode(&iterator) {
                out.unicodeScalars.append(scalar)
                i = end
                continue
            }
            out += hexEscape(b)
        default: out += hexEscape(b)
        }
        i = bytes.index(after: i)
    }
    return out
}

private func hexEscape(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return "\\x\(digits[Int(b >> 4)])\(digits[Int(b & 15)])"
}
