/// Path bytes as text that a person can read and a policy can quote back:
/// valid UTF-8 stays as it is; control bytes, backslashes, double quotes and
/// bytes that are not UTF-8 become the escapes a quoted policy value takes
/// (\n \t \\ \" \xHH).
public func printable<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    printable(bytes, escapingInvisible: false)
}

/// A path (or any name the opener chose) as a log line shows it: `printable`,
/// with every space, separator and format character beyond ASCII (no-break
/// spaces, line separators, bidirectional overrides) escaped too, and in
/// double quotes when it holds a space or is empty. No name can then imitate
/// the line's own fields (`x by /usr/sbin/sshd[1] uid=0` stays one quoted
/// value), and the text still pastes back into a policy as a quoted value.
public func loggable<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let text = printable(bytes, escapingInvisible: true)
    return bytes.isEmpty || bytes.contains(UInt8(ascii: " ")) ? "\"" + text + "\"" : text
}

private func printable<Bytes: Collection>(_ bytes: Bytes, escapingInvisible: Bool) -> String where Bytes.Element == UInt8 {
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
                if escapingInvisible && isInvisible(scalar) {
                    for byte in bytes[i..<end] { out += hexEscape(byte) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
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

/// Spaces, separators and format characters beyond ASCII: they look like a
/// space, a line break or nothing at all.
private func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .spaceSeparator, .lineSeparator, .paragraphSeparator, .format, .control: true
    default: false
    }
}
