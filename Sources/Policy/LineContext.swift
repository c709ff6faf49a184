#if canImport(Glibc)
import Glibc
#endif

/// The diagnostics of one line, and the value parsers that report into them.
struct LineContext {
    let file: String
    let line: Int
    var diagnostics: [PolicyDiagnostic] = []

    init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    mutating func error(_ column: Int, _ message: String) {
        diagnostics.append(PolicyDiagnostic(location: SourceLocation(file: file, line: line, column: column),
                                            severity: .error, message: message))
    }

    mutating func warning(_ column: Int, _ message: String) {
        diagnostics.append(PolicyDiagnostic(location: SourceLocation(file: file, line: line, column: column),
                                            severity: .warning, message: message))
    }

    mutating func integer(_ w: Word, in range: ClosedRange<Int>) -> Int? {
        guard w.text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(w.text), range.contains(n) else {
            error(w.column, "'\(w.text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return n
    }

    mutating func verdict(_ w: Word) -> Verdict? {
        guard let v = Verdict(rawValue: w.text) else {
            error(w.column, "'\(w.text)' is not allow or deny")
            return nil
        }
        return v
    }

    /// `250ms`, `2s`, `500us`: a whole number and a unit, from 1ms to 60s.
    mutating func duration(_ w: Word) -> Duration? {
        let text = w.text
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let scale: Duration? = switch text.dropFirst(digits.count) {
        case "us": .microseconds(1)
        case "ms": .milliseconds(1)
        case "s": .seconds(1)
        default: nil
        }
        guard !digits.isEmpty, digits.count <= 9, let n = Int(digits), let scale else {
            error(w.column, "bad duration '\(text)' (a whole number and a unit: us, ms or s, e.g. 250ms)")
            return nil
        }
        let d = scale * n
        guard d >= .milliseconds(1), d <= .seconds(60) else {
            error(w.column, "duration '\(text)' is out of range (1ms to 60s)")
            return nil
        }
        return d
    }

    /// Bytes, with an optional K, M or G (powers of 1024): `4096`, `64M`.
    mutating func size(_ w: Word) -> UInt64? {
        var text = Substring(w.text)
        var scale: UInt64 = 1
        switch text.last {
        case "K", "k": scale = 1 << 10
        case "M", "m": scale = 1 << 20
        case "G", "g": scale = 1 << 30
        default: break
        }
        if scale != 1 { text = text.dropLast() }
        guard text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = UInt64(text),
              case (let total, false) = n.multipliedReportingOverflow(by: scale) else {
            error(w.column, "'\(w.text)' is not a size (bytes, or a whole number with K, M or G)")
            return nil
        }
        return total
    }

    mutating func absolutePath(_ w: Word) -> [UInt8]? {
        guard w.bytes.first == UInt8(ascii: "/") else {
            error(w.column, "'\(w.text)' is not an absolute path (it must start with /)")
            return nil
        }
        guard w.bytes.count < 4096 else {
            error(w.column, "the path is longer than PATH_MAX (4095 bytes)")
            return nil
        }
        return w.bytes
    }

    /// One value of a test, as the attribute reads it.
    mutating func pattern(for attribute: Attribute, _ v: Word, inSet set: String?) -> Pattern? {
        let before = diagnostics.count
        defer {
            if let set {
                for i in before..<diagnostics.count { diagnostics[i].message = "in set '%\(set)': " + diagnostics[i].message }
            }
        }
        guard !v.bytes.isEmpty || v.isQuoted else {
            // fapolicyd's sample rules have `path=` where a macro was left empty: it names no file.
            if attribute == .path || attribute == .exe { return .nothing([]) }
            error(v.column, "empty value")
            return nil
        }
        let globPrefix = Array("glob:".utf8)
        let pathLike = ![.comm, .device, .fstype, .exeDevice].contains(attribute)
        // fapolicyd 2.0 quotes a whole glob with a space in it, prefix and all
        // (`path="glob:/a b/*"`); no absolute path starts with "glob:", so a
        // quoted prefix is a glob for paths, and literal text for names.
        if v.bytes.starts(with: globPrefix), pathLike || !v.quoted.prefix(5).contains(true) {
            return glob(for: attribute, v, pathLike: pathLike)
        }
        return literal(for: attribute, v)
    }

    /// `glob:PATTERN` for a path-like or name attribute.
    private mutating func glob(for attribute: Attribute, _ v: Word, pathLike: Bool) -> Pattern? {
        guard [.bytes, .directory].contains(attribute.kind) else {
            error(v.column, "'\(attribute.name)' takes no glob")
            return nil
        }
        let pattern = Array(v.bytes.dropFirst(5))
        if pathLike && pattern.first != UInt8(ascii: "/") {
            error(v.column + 5, "a \(attribute.name) glob must start with /")
            return nil
        }
        do { return .glob(try Glob(pattern)) } catch {
            self.error(v.column + 5 + error.offset, error.message)
            return nil
        }
    }

    /// A value that is not a glob, checked as its attribute's kind wants it.
    private mutating func literal(for attribute: Attribute, _ v: Word) -> Pattern? {
        switch attribute.kind {
        case .id:
            if let n = UInt32(v.text) { return .number(UInt64(n)) }
            if v.text.first == "-" {
                error(v.column, "\(attribute.name) takes no negative number: an unset login uid is 4294967295, as fapolicyd reports it")
                return nil
            }
            let found = attribute == .gid ? groupID(v.text) : userID(v.text)
            guard let found else {
                // As fapolicyd's own sample rules name users a machine may not have (mock), a warning:
                // the value matches no process.
                warning(v.column, "unknown \(attribute == .gid ? "group" : "user") '\(v.text)': it matches no process")
                return .nothing(v.bytes)
            }
            return .number(UInt64(found))
        case .number:
            if attribute == .size { return size(v).map(Pattern.number) }
            guard let n = UInt32(v.text), attribute == .sessionid || n > 0 else {
                error(v.column, "'\(v.text)' is not a \(attribute == .sessionid ? "session id" : "process id")")
                return nil
            }
            return .number(UInt64(n))
        case .bytes:
            switch attribute {
            case .comm:
                guard v.bytes.count <= 15 else {
                    error(v.column, "a comm is at most 15 bytes (the kernel truncates longer names), '\(v.text)' has \(v.bytes.count)")
                    return nil
                }
            case .exe, .path:
                guard absolutePath(v) != nil else { return nil }
            default: break
            }
            return .bytes(v.bytes)
        case .directory:
            guard var p = absolutePath(v) else { return nil }
            if p.last != UInt8(ascii: "/") {
                warning(v.column, "'\(v.text)' has no trailing '/': taken as the directory \(v.text)/")
                p.append(UInt8(ascii: "/"))
            }
            return .prefix(p)
        case .mime:
            let allowed: (UInt8) -> Bool = { c in
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || Array("+-._/".utf8).contains(c)
            }
            guard v.bytes.contains(UInt8(ascii: "/")), v.bytes.allSatisfy(allowed) else {
                error(v.column, "'\(v.text)' is not a MIME type (such as application/x-executable or text/x-python)")
                return nil
            }
            return .bytes(v.bytes)
        case .flag:
            guard v.text == "0" || v.text == "1" else {
                error(v.column, "\(attribute.name) is 1 (trusted) or 0 (not trusted)")
                return nil
            }
            return .number(v.text == "1" ? 1 : 0)
        case .startPattern:
            guard let found = StartPattern.names.first(where: { $0.0 == v.text }) else {
                error(v.column, "unknown pattern '\(v.text)' (expected \(StartPattern.names.map(\.0).joined(separator: ", ")))")
                return nil
            }
            return .number(UInt64(found.1.rawValue))
        case .hash:
            let hex = v.text.lowercased()
            let digits = attribute == .sha512hash ? 128 : 64
            guard hex.utf8.count == digits, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                error(v.column, attribute == .sha512hash ? "a SHA-512 filehash is 128 hex digits"
                                                         : "a SHA-256 digest is 64 hex digits (a filehash of 128 is a SHA-512)")
                return nil
            }
            return .bytes(Array(hex.utf8))
        }
    }
}
