#if canImport(Glibc)
import Glibc
#endif

extension Policy {
    /// Parses and checks a policy. Every error is reported, each with its
    /// FILE:LINE:COL, not only the first.
    public static func parse(_ text: [UInt8], file: String) throws(PolicyError) -> Policy {
        var parser = PolicyParser(file: file)
        var lineNumber = 0
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            parser.parseLine(line, number: lineNumber)
        }
        let errors = parser.diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty { throw PolicyError(parser.diagnostics) }
        return Policy(settings: parser.settings, rules: parser.rules, source: file)
    }

    /// Reads and parses the policy file at `path`.
    public static func load(path: String) throws(PolicyError) -> Policy {
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path) } catch {
            throw PolicyError([PolicyDiagnostic(location: SourceLocation(file: path, line: 0, column: 0),
                                                severity: .error, message: error.message)])
        }
        return try parse(bytes, file: path)
    }
}

/// The largest policy file read (a guard against reading a device or a huge file by mistake).
let maximumPolicySize = 16 << 20

private struct ReadFailure: Error { var message: String }

private func readWholeFile(_ path: String) throws(ReadFailure) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ReadFailure(message: "cannot open the policy: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ReadFailure(message: "cannot read the policy: \(String(cString: strerror(errno)))")
        }
        if n == 0 { return bytes }
        bytes += chunk[..<n]
        if bytes.count > maximumPolicySize { throw ReadFailure(message: "the policy is larger than \(maximumPolicySize >> 20) MiB") }
    }
}

private struct PolicyParser {
    let file: String
    var settings = Settings()
    var rules: [Rule] = []
    var diagnostics: [PolicyDiagnostic] = []
    /// Where each single-valued setting was first given.
    var settingLines: [String: Int] = [:]

    init(file: String) { self.file = file }

    mutating func error(_ line: Int, _ column: Int, _ message: String) {
        diagnostics.append(PolicyDiagnostic(location: SourceLocation(file: file, line: line, column: column),
                                            severity: .error, message: message))
    }

    mutating func parseLine(_ line: ArraySlice<UInt8>, number: Int) {
        let words: [Word]
        switch lexLine(line) {
        case .success(let w): words = w
        case .failure(let p): return error(number, p.column, p.message)
        }
        guard let first = words.first else { return }
        if RuleDecision(rawValue: first.text) != nil, !first.isQuoted {
            parseRule(words, line: line, number: number)
        } else if first.splitAssignment() != nil || (words.count > 1 && words[1].bytes.first == UInt8(ascii: "=")) {
            parseSetting(words, number: number)
        } else {
            error(number, first.column, "unknown decision '\(first.text)' (expected \(RuleDecision.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    // MARK: settings

    mutating func parseSetting(_ words: [Word], number: Int) {
        let key: Word
        var value: Word?
        var rest: ArraySlice<Word>
        if let (name, negated, v) = words[0].splitAssignment(), !negated {
            key = Word(bytes: Array(name.utf8), column: words[0].column)
            value = v.bytes.isEmpty && !v.isQuoted ? words.dropFirst().first : v
            rest = words.dropFirst(value == v ? 1 : 2)
        } else {
            key = words[0]
            if words[1].bytes == [UInt8(ascii: "=")] {
                value = words.dropFirst(2).first
                rest = words.dropFirst(3)
            } else {
                value = words[1].suffix(from: 1)
                rest = words.dropFirst(2)
            }
        }
        guard let value, !value.bytes.isEmpty || value.isQuoted else {
            return error(number, key.column, "'\(key.text)' needs a value")
        }
        if let extra = rest.first {
            return error(number, extra.column, "unexpected '\(extra.text)' after the value of '\(key.text)' (quote a value that has spaces)")
        }
        let name = key.text
        let repeatable = name == "watch" || name == "watch_mount"
        if !repeatable, Self.settingNames.contains(name) {
            if let earlier = settingLines[name] {
                return error(number, key.column, "'\(name)' is already set on line \(earlier)")
            }
            settingLines[name] = number
        }
        switch name {
        case "watch", "watch_mount":
            guard let path = absolutePath(value, number: number) else { return }
            if name == "watch" { settings.watch.append(path) } else { settings.watchMounts.append(path) }
        case "mode":
            guard let mode = Mode(rawValue: value.text) else {
                return error(number, value.column, "unknown mode '\(value.text)' (expected enforce or permissive)")
            }
            settings.mode = mode
        case "workers":
            if let n = integer(value, in: 1...256, number: number) { settings.workers = n }
        case "prime":
            if let n = integer(value, in: 1...64, number: number) { settings.prime = n }
        case "queue_size":
            if let n = integer(value, in: 1...1_048_576, number: number) { settings.queueSize = n }
        case "reply_timeout":
            if let d = duration(value, number: number) { settings.replyTimeout = d }
        case "on_timeout":
            if let v = verdict(value, number: number) { settings.onTimeout = v }
        case "on_overload":
            if let v = verdict(value, number: number) { settings.onOverload = v }
        default:
            error(number, key.column, "unknown setting '\(name)' (expected \(Self.settingNames.joined(separator: ", ")))")
        }
    }

    static let settingNames = ["watch", "watch_mount", "mode", "workers", "prime", "reply_timeout",
                               "on_timeout", "queue_size", "on_overload"]

    mutating func integer(_ w: Word, in range: ClosedRange<Int>, number: Int) -> Int? {
        guard let n = Int(w.text), range.contains(n) else {
            error(number, w.column, "'\(w.text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return n
    }

    mutating func verdict(_ w: Word, number: Int) -> Verdict? {
        guard let v = Verdict(rawValue: w.text) else {
            error(number, w.column, "'\(w.text)' is not allow or deny")
            return nil
        }
        return v
    }

    /// `250ms`, `2s`, `500us`: a whole number and a unit, from 1ms to 60s.
    mutating func duration(_ w: Word, number: Int) -> Duration? {
        let text = w.text
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        let scale: Duration? = switch unit {
        case "us": .microseconds(1)
        case "ms": .milliseconds(1)
        case "s": .seconds(1)
        default: nil
        }
        guard !digits.isEmpty, digits.count <= 9, let n = Int(digits), let scale else {
            error(number, w.column, "bad duration '\(text)' (a whole number and a unit: us, ms or s, e.g. 250ms)")
            return nil
        }
        let d = scale * n
        guard d >= .milliseconds(1), d <= .seconds(60) else {
            error(number, w.column, "duration '\(text)' is out of range (1ms to 60s)")
            return nil
        }
        return d
    }

    mutating func absolutePath(_ w: Word, number: Int) -> [UInt8]? {
        guard w.bytes.first == UInt8(ascii: "/") else {
            error(number, w.column, "'\(w.text)' is not an absolute path (it must start with /)")
            return nil
        }
        guard w.bytes.count < 4096 else {
            error(number, w.column, "the path is longer than PATH_MAX (4095 bytes)")
            return nil
        }
        return w.bytes
    }

    // MARK: rules

    mutating func parseRule(_ words: [Word], line: ArraySlice<UInt8>, number: Int) {
        let errorsBefore = diagnostics.count
        let decision = RuleDecision(rawValue: words[0].text)!
        guard let colon = words.firstIndex(where: { $0.bytes == [UInt8(ascii: ":")] && !$0.isQuoted }) else {
            let last = words[words.count - 1]
            return error(number, last.column + last.bytes.count, "missing ':' between the subject and the object")
        }
        var perm: Perm?
        var subject: [Test<SubjectAttribute>] = []
        var object: [Test<ObjectAttribute>] = []
        var sawAll = (subject: false, object: false)
        var seen: Set<String> = []

        for w in words[1..<colon] {
            if w.bytes == Array("all".utf8), !w.isQuoted { sawAll.subject = true; continue }
            guard let (name, negated, value) = w.splitAssignment() else {
                error(number, w.column, "expected attr=value in the subject, found '\(w.text)'")
                continue
            }
            guard seen.insert(name).inserted else {
                error(number, w.column, "'\(name)' is given twice in one rule (list the values: \(name)=a,b)")
                continue
            }
            if name == "perm" {
                guard !negated, let p = Perm(rawValue: value.text) else {
                    error(number, value.column, "perm must be open, execute or any")
                    continue
                }
                perm = p
                continue
            }
            let values = value.split(at: UInt8(ascii: ","))
            let attribute: SubjectAttribute?
            switch name {
            case "uid": attribute = ids(values, number: number, kind: "user").map(SubjectAttribute.uid)
            case "gid": attribute = ids(values, number: number, kind: "group").map(SubjectAttribute.gid)
            case "pid": attribute = pids(values, number: number).map(SubjectAttribute.pid)
            case "comm": attribute = comms(values, number: number).map(SubjectAttribute.comm)
            case "exe": attribute = paths(values, number: number).map(SubjectAttribute.exe)
            case "path", "dir":
                error(number, w.column, "'\(name)' is an object attribute: put it after the ':'")
                continue
            default:
                error(number, w.column, "unknown subject attribute '\(name)' (expected all, perm, uid, gid, pid, comm, exe)")
                continue
            }
            if let attribute { subject.append(Test(attribute: attribute, negated: negated)) }
        }

        for w in words[(colon + 1)...] {
            if w.bytes == Array("all".utf8), !w.isQuoted { sawAll.object = true; continue }
            guard let (name, negated, value) = w.splitAssignment() else {
                error(number, w.column, "expected attr=value in the object, found '\(w.text)'")
                continue
            }
            guard seen.insert(name).inserted else {
                error(number, w.column, "'\(name)' is given twice in one rule (list the values: \(name)=a,b)")
                continue
            }
            let values = value.split(at: UInt8(ascii: ","))
            switch name {
            case "path":
                if let p = paths(values, number: number) { object.append(Test(attribute: .path(p), negated: negated)) }
            case "dir":
                if let p = paths(values, number: number) {
                    let prefixes = p.map { $0.last == UInt8(ascii: "/") ? $0 : $0 + [UInt8(ascii: "/")] }
                    object.append(Test(attribute: .dir(prefixes), negated: negated))
                }
            case "perm", "uid", "gid", "pid", "comm", "exe":
                error(number, w.column, "'\(name)' is a subject attribute: put it before the ':'")
            default:
                error(number, w.column, "unknown object attribute '\(name)' (expected all, path, dir)")
            }
        }

        if sawAll.subject && !subject.isEmpty {
            error(number, words[1].column, "'all' stands alone in the subject")
        } else if !sawAll.subject && subject.isEmpty && diagnostics.count == errorsBefore {
            error(number, words[colon].column, "the subject is empty (write 'all' to match every process)")
        }
        if sawAll.object && !object.isEmpty {
            error(number, words[colon + 1].column, "'all' stands alone in the object")
        } else if !sawAll.object && object.isEmpty && diagnostics.count == errorsBefore {
            error(number, words[colon].column + 1, "the object is empty (write 'all' to match every file)")
        }
        guard diagnostics.count == errorsBefore else { return }

        let last = words[words.count - 1]
        let textEnd = line.startIndex + last.column - 1 + rawLength(of: last, in: line)
        let text = String(decoding: line[(line.startIndex + words[0].column - 1)..<textEnd], as: UTF8.self)
        rules.append(Rule(number: rules.count + 1, decision: decision, perm: perm ?? .open,
                          subject: subject, object: object,
                          location: SourceLocation(file: file, line: number, column: words[0].column),
                          text: text))
    }

    /// How many bytes of the line the word spans (its raw, quoted form).
    func rawLength(of w: Word, in line: ArraySlice<UInt8>) -> Int {
        var i = line.startIndex + w.column - 1
        var inQuotes = false
        while i < line.endIndex {
            let c = line[i]
            if !inQuotes && (c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r")) { break }
            if inQuotes && c == UInt8(ascii: "\\") { i += 2; continue }
            if c == UInt8(ascii: "\"") { inQuotes.toggle() }
            i += 1
        }
        return min(i, line.endIndex) - (line.startIndex + w.column - 1)
    }

    mutating func nonEmpty(_ values: [Word], number: Int) -> Bool {
        for v in values where v.bytes.isEmpty {
            error(number, v.column, "empty value")
            return false
        }
        return true
    }

    mutating func ids(_ values: [Word], number: Int, kind: String) -> [UInt32]? {
        guard nonEmpty(values, number: number) else { return nil }
        var out: [UInt32] = []
        for v in values {
            let text = v.text
            if let n = UInt32(text) { out.append(n); continue }
            if let n = kind == "user" ? lookUpUser(text) : lookUpGroup(text) { out.append(n); continue }
            error(number, v.column, "unknown \(kind) '\(text)'")
            return nil
        }
        return out
    }

    mutating func pids(_ values: [Word], number: Int) -> [Int32]? {
        guard nonEmpty(values, number: number) else { return nil }
        var out: [Int32] = []
        for v in values {
            guard let n = Int32(v.text), n > 0 else {
                error(number, v.column, "'\(v.text)' is not a process id")
                return nil
            }
            out.append(n)
        }
        return out
    }

    mutating func comms(_ values: [Word], number: Int) -> [[UInt8]]? {
        guard nonEmpty(values, number: number) else { return nil }
        for v in values where v.bytes.count > 15 {
            error(number, v.column, "a comm is at most 15 bytes (the kernel truncates longer names), '\(v.text)' has \(v.bytes.count)")
            return nil
        }
        return values.map(\.bytes)
    }

    mutating func paths(_ values: [Word], number: Int) -> [[UInt8]]? {
        guard nonEmpty(values, number: number) else { return nil }
        var out: [[UInt8]] = []
        for v in values {
            guard let p = absolutePath(v, number: number) else { return nil }
            out.append(p)
        }
        return out
    }
}

private func lookUpUser(_ name: String) -> UInt32? {
    guard let pw = getpwnam(name) else { return nil }
    return pw.pointee.pw_uid
}

private func lookUpGroup(_ name: String) -> UInt32? {
    guard let gr = getgrnam(name) else { return nil }
    return gr.pointee.gr_gid
}
