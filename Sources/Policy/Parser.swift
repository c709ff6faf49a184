#if canImport(Glibc)
import Glibc
#endif

/// What loading a policy does about a file that is not owned by root or is
/// writable by group or others (sshd's StrictModes).
public enum OwnershipCheck: Sendable {
    /// Refuse the policy (the agent).
    case refuse
    /// Report it as a warning (`fanfilter check`).
    case warn
    /// Do not look (tests, the built-in policy).
    case ignore
}

extension Policy {
    /// Parses and checks a policy held in memory. Every error is reported, each
    /// with its FILE:LINE:COL, not only the first. `include` lines are read
    /// relative to the folder of `file`.
    public static func parse(_ text: [UInt8], file: String, ownership: OwnershipCheck = .ignore) throws(PolicyError) -> Policy {
        var parser = PolicyParser(ownership: ownership)
        parser.parse(text, file: file, depth: 0)
        return try parser.finish(source: file)
    }

    /// Reads, parses and checks the policy file at `path`, its includes, and
    /// the `policy.d/` folder beside it.
    public static func load(path: String, ownership: OwnershipCheck = .refuse) throws(PolicyError) -> Policy {
        var parser = PolicyParser(ownership: ownership)
        parser.include(path, from: nil, depth: 0)
        let dropIn = directory(of: path) + "policy.d"
        if isDirectory(dropIn), !parser.included.contains(dropIn) {
            parser.include(dropIn, from: nil, depth: 1)
        }
        return try parser.finish(source: path)
    }
}

extension Policy {
    /// The text of the line `location` names, as the parser read it (a
    /// leading byte-order mark dropped), for caret lines; nil when the file
    /// cannot be read as a policy is (a regular file, within the size bound).
    public static func sourceLine(_ location: SourceLocation) -> [UInt8]? {
        guard location.line >= 1, var bytes = try? readPolicyFile(location.file).bytes[...] else { return nil }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false)
        guard location.line <= lines.count else { return nil }
        return Array(lines[lines.startIndex + location.line - 1])
    }
}

/// The largest policy file read (a guard against a huge file given by mistake).
let maximumPolicySize = 16 << 20
/// How deep includes may nest.
let maximumIncludeDepth = 8
/// The most bytes a policy may read across all its files, and the most rules
/// it may expand to: a file included many times over (8 files each including
/// the next twice, say) would otherwise expand without bound.
let maximumTotalPolicySize = 64 << 20
let maximumRules = 1_000_000
let maximumFilesRead = 10_000

func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[...slash])
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

struct ReadFailure: Error { var message: String }

/// Reads a whole regular file, with what StrictModes would say of it. Only a
/// regular file is read (opened without blocking, so a FIFO cannot hang the
/// reader), and never more than `limit` bytes, whatever its size claims.
func readPolicyFile(_ path: String, limit: Int = maximumPolicySize) throws(ReadFailure) -> (bytes: [UInt8], unsafe: String?) {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    if fd < 0 { throw ReadFailure(message: "cannot open the policy: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw ReadFailure(message: "cannot read the policy: \(String(cString: strerror(errno)))") }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        throw ReadFailure(message: "not a regular file (\(fileKind(st.st_mode))): a policy is read only from a regular file")
    }
    var unsafe: String?
    do {
        if st.st_uid != 0 {
            unsafe = "the policy file is owned by uid \(st.st_uid), not root (chown root \(path))"
        } else if st.st_mode & 0o022 != 0 {
            unsafe = "the policy file is writable by group or others (mode \(String(st.st_mode & 0o7777, radix: 8))); chmod go-w \(path)"
        }
    }
    if st.st_size > limit { throw ReadFailure(message: "the policy is larger than \(sizeText(limit))") }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        // Never more than one byte past the limit, whatever the file turns out to hold.
        let want = min(chunk.count, limit + 1 - bytes.count)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ReadFailure(message: "cannot read the policy: \(String(cString: strerror(errno)))")
        }
        if n == 0 { return (bytes, unsafe) }
        bytes += chunk[..<n]
        if bytes.count > limit { throw ReadFailure(message: "the policy is larger than \(sizeText(limit))") }
    }
}

private func sizeText(_ bytes: Int) -> String {
    bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
}

/// What a file that is not a regular file is, for an error message.
func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: "a directory"
    case S_IFIFO: "a FIFO"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFSOCK: "a socket"
    default: "not a regular file"
    }
}

/// The parser's state across one policy and its includes.
struct PolicyParser {
    let ownership: OwnershipCheck
    var settings = Settings()
    var rules: [Rule] = []
    var diagnostics: [PolicyDiagnostic] = []
    /// Where each single-valued setting was first given.
    var settingLocations: [String: SourceLocation] = [:]
    /// Named sets: their values and where they were defined.
    var sets: [String: (values: [Word], location: SourceLocation)] = [:]
    /// Every file and folder included so far.
    var included: Set<String> = []
    /// The files being read, outermost first (for cycles).
    var stack: [String] = []
    /// Bytes and files read so far across the policy, against their bounds.
    var bytesRead = 0
    var filesRead = 0
    /// Set once the expansion passed a bound: nothing more is read.
    var tooLarge = false

    init(ownership: OwnershipCheck) { self.ownership = ownership }

    mutating func finish(source: String) throws(PolicyError) -> Policy {
        // A policy cut short by a bound is refused anyway: its warnings would only bury the error.
        if !tooLarge { diagnostics += lint(rules) }
        // By file (in the order they were read), then line and column.
        var order: [String: Int] = [:]
        for d in diagnostics where order[d.location.file] == nil { order[d.location.file] = order.count }
        diagnostics = diagnostics.enumerated().sorted { a, b in
            let l = a.element.location, r = b.element.location
            return (order[l.file]!, l.line, l.column, a.offset) < (order[r.file]!, r.line, r.column, b.offset)
        }.map(\.element)
        if diagnostics.contains(where: { $0.severity == .error }) { throw PolicyError(diagnostics) }
        return Policy(settings: settings, rules: rules, source: source, warnings: diagnostics)
    }

    mutating func report(_ severity: PolicyDiagnostic.Severity, _ file: String, _ line: Int, _ column: Int, _ message: String) {
        diagnostics.append(PolicyDiagnostic(location: SourceLocation(file: file, line: line, column: column),
                                            severity: severity, message: message))
    }

    // MARK: files

    /// Reads a file, or every `*.policy` file of a folder in name order.
    mutating func include(_ path: String, from: SourceLocation?, depth: Int) {
        let at = from ?? SourceLocation(file: path, line: 0, column: 0)
        guard depth <= maximumIncludeDepth else {
            return report(.error, at.file, at.line, at.column, "includes nest deeper than \(maximumIncludeDepth)")
        }
        guard !stack.contains(path) else {
            return report(.error, at.file, at.line, at.column, "'\(path)' includes itself")
        }
        included.insert(path)
        if from == nil && depth == 0 && isDirectory(path) {
            return report(.error, path, 0, 0, "cannot read the policy: Is a directory")
        }
        if isDirectory(path) {
            let base = path.hasSuffix("/") ? path : path + "/"
            for name in policyFiles(in: path) { include(base + name, from: from, depth: depth + 1) }
            return
        }
        guard !tooLarge else { return }
        filesRead += 1
        if filesRead > maximumFilesRead {
            tooLarge = true
            return report(.error, at.file, at.line, at.column,
                          "the policy reads more than \(maximumFilesRead) files (is a file included many times over?)")
        }
        let read: (bytes: [UInt8], unsafe: String?)
        do { read = try readPolicyFile(path, limit: min(maximumPolicySize, maximumTotalPolicySize - bytesRead)) } catch {
            if bytesRead + maximumPolicySize > maximumTotalPolicySize, error.message.hasPrefix("the policy is larger") {
                tooLarge = true
                return report(.error, at.file, at.line, at.column,
                              "the policy and its includes add up to more than \(maximumTotalPolicySize >> 20) MiB (is a file included many times over?)")
            }
            return report(.error, at.file == path ? path : at.file, at.line, at.column,
                          at.file == path ? error.message : "cannot include '\(path)': \(error.message)")
        }
        if let unsafe = read.unsafe {
            switch ownership {
            case .refuse: report(.error, path, 0, 0, "refusing it: " + unsafe)
            case .warn: report(.warning, path, 0, 0, unsafe)
            case .ignore: break
            }
        }
        bytesRead += read.bytes.count
        parse(read.bytes, file: path, depth: depth)
    }

    mutating func parse(_ text: [UInt8], file: String, depth: Int) {
        stack.append(file)
        defer { stack.removeLast() }
        var text = text[...]
        if text.starts(with: [0xEF, 0xBB, 0xBF]) {
            text = text.dropFirst(3)
            report(.warning, file, 1, 1, "a UTF-8 byte-order mark at the start of the file is ignored")
        }
        var number = 0
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            guard !tooLarge else { return }
            parseLine(line, file: file, number: number, depth: depth)
            if rules.count > maximumRules {
                tooLarge = true
                rules.removeLast()
                return report(.error, file, number, 1,
                              "the policy expands to more than \(maximumRules) rules (is a file included many times over?)")
            }
        }
    }

    mutating func parseLine(_ line: ArraySlice<UInt8>, file: String, number: Int, depth: Int) {
        let words: [Word]
        switch lexLine(line) {
        case .success(let w): words = w
        case .failure(let p): return report(.error, file, number, p.column, p.message)
        }
        guard let first = words.first else { return }
        var at = LineContext(file: file, line: number)
        if first.bytes.first == UInt8(ascii: "%"), !first.isQuoted {
            defineSet(words, &at)
        } else if RuleDecision(rawValue: first.text) != nil, !first.isQuoted {
            parseRule(words, line: line, &at)
        } else if first.splitTest() != nil || (words.count > 1 && words[1].bytes.first == UInt8(ascii: "=")) {
            parseSetting(words, &at, depth: depth)
        } else {
            at.error(first.column, "unknown decision '\(first.text)' (expected \(RuleDecision.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        diagnostics += at.diagnostics
    }

    // MARK: settings

    /// `key = value`, `key=value`, `key= value` or `key =value`, with one value.
    static func keyAndValue(_ words: [Word]) -> (key: Word, value: Word?, rest: ArraySlice<Word>) {
        if let (name, comparison, v) = words[0].splitTest(), comparison == .equal {
            let key = Word(bytes: Array(name.utf8), column: words[0].column)
            if v.bytes.isEmpty && !v.isQuoted { return (key, words.dropFirst().first, words.dropFirst(2)) }
            return (key, v, words.dropFirst())
        }
        guard words.count > 1, words[1].bytes.first == UInt8(ascii: "=") else { return (words[0], nil, words.dropFirst()) }
        if words[1].bytes == [UInt8(ascii: "=")] { return (words[0], words.dropFirst(2).first, words.dropFirst(3)) }
        return (words[0], words[1].suffix(from: 1), words.dropFirst(2))
    }

    static let settingNames = ["watch", "watch_mount", "mode", "workers", "prime", "reply_timeout", "on_timeout",
                               "on_timeout_execute", "queue_size", "on_overload", "on_overload_execute",
                               "on_unknown_path", "on_unknown_path_execute", "default", "on_no_client",
                               "hash_max_size", "log_rate", "cache", "cache_size", "include"]

    mutating func parseSetting(_ words: [Word], _ at: inout LineContext, depth: Int) {
        let (key, value, rest) = Self.keyAndValue(words)
        let name = key.text
        guard Self.settingNames.contains(name) else {
            return at.error(key.column, "unknown setting '\(name)' (expected \(Self.settingNames.joined(separator: ", ")))")
        }
        guard let value, !value.bytes.isEmpty || value.isQuoted else { return at.error(key.column, "'\(name)' needs a value") }
        if let extra = rest.first {
            return at.error(extra.column, "unexpected '\(extra.text)' after the value of '\(name)' (quote a value that has spaces)")
        }
        if !["watch", "watch_mount", "include"].contains(name) {
            if let earlier = settingLocations[name] {
                let whereText = earlier.file == at.file ? "on line \(earlier.line)" : "at \(earlier.file):\(earlier.line)"
                return at.error(key.column, "'\(name)' is already set \(whereText)")
            }
            settingLocations[name] = SourceLocation(file: at.file, line: at.line, column: key.column)
        }
        switch name {
        case "watch", "watch_mount":
            guard let path = at.absolutePath(value) else { return }
            if name == "watch" { settings.watch.append(path) } else { settings.watchMounts.append(path) }
        case "include":
            let target = value.text.hasPrefix("/") ? value.text : directory(of: at.file) + value.text
            diagnostics += at.diagnostics
            at.diagnostics = []
            include(target, from: SourceLocation(file: at.file, line: at.line, column: value.column), depth: depth + 1)
        case "mode":
            guard let mode = Mode(rawValue: value.text) else {
                return at.error(value.column, "unknown mode '\(value.text)' (expected enforce, permissive or observe)")
            }
            settings.mode = mode
        case "workers": if let n = at.integer(value, in: 1...256) { settings.workers = n }
        case "prime": if let n = at.integer(value, in: 1...64) { settings.prime = n }
        case "queue_size": if let n = at.integer(value, in: 1...1_048_576) { settings.queueSize = n }
        case "log_rate": if let n = at.integer(value, in: 1...1_000_000) { settings.logRate = n }
        case "reply_timeout": if let d = at.duration(value) { settings.replyTimeout = d }
        case "on_timeout": if let v = at.verdict(value) { settings.onTimeout = v }
        case "on_timeout_execute": if let v = at.verdict(value) { settings.onTimeoutExecute = v }
        case "on_overload": if let v = at.verdict(value) { settings.onOverload = v }
        case "on_overload_execute": if let v = at.verdict(value) { settings.onOverloadExecute = v }
        case "on_unknown_path": if let v = at.verdict(value) { settings.onUnknownPath = v }
        case "on_unknown_path_execute": if let v = at.verdict(value) { settings.onUnknownPathExecute = v }
        case "default": if let v = at.verdict(value) { settings.defaultVerdict = v }
        case "on_no_client": if let v = at.verdict(value) { settings.onNoClient = v }
        case "hash_max_size": if let n = at.size(value) { settings.hashMaxSize = n }
        case "cache":
            guard let mode = CacheMode(rawValue: value.text) else {
                return at.error(value.column, "unknown cache '\(value.text)' (expected kernel, user or off)")
            }
            settings.cache = mode
        case "cache_size": if let n = at.integer(value, in: 1...16_777_216) { settings.cacheSize = n }
        default: break
        }
    }

    // MARK: sets

    /// `%name=a,b,c`: a named list of values, used as `attr=%name` after it.
    mutating func defineSet(_ words: [Word], _ at: inout LineContext) {
        let (key, value, rest) = Self.keyAndValue(words)
        let name = String(key.text.dropFirst())
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || ($0 < 128 && Character(Unicode.Scalar($0)).isLetter) || ($0 >= 48 && $0 <= 57) }) else {
            return at.error(key.column, "a set name is letters, digits, '_' and '-' after '%'")
        }
        guard let value, !value.bytes.isEmpty else { return at.error(key.column, "the set '%\(name)' needs values") }
        if let extra = rest.first { return at.error(extra.column, "unexpected '\(extra.text)' after the values of '%\(name)'") }
        if let earlier = sets[name] {
            return at.error(key.column, "the set '%\(name)' is already defined at \(earlier.location.file):\(earlier.location.line)")
        }
        sets[name] = (value.split(at: UInt8(ascii: ",")), SourceLocation(file: at.file, line: at.line, column: key.column))
    }

    // MARK: rules

    mutating func parseRule(_ words: [Word], line: ArraySlice<UInt8>, _ at: inout LineContext) {
        let decision = RuleDecision(rawValue: words[0].text)!
        guard let colon = words.firstIndex(where: { $0.bytes == [UInt8(ascii: ":")] && !$0.isQuoted }) else {
            let last = words[words.count - 1]
            return at.error(last.column + last.bytes.count, "missing ':' between the subject and the object")
        }
        var perm: Perm?
        var seen: Set<String> = []
        let subject = tests(words[1..<colon], subject: true, perm: &perm, seen: &seen, &at)
        let object = tests(words[(colon + 1)...], subject: false, perm: &perm, seen: &seen, &at)
        guard at.diagnostics.allSatisfy({ $0.severity != .error }) else { return }
        if subject == nil { return at.error(words[colon].column, "the subject is empty (write 'all' to match every process)") }
        if object == nil { return at.error(words[colon].column + 1, "the object is empty (write 'all' to match every file)") }

        let last = words[words.count - 1]
        let start = line.startIndex + words[0].column - 1
        let end = line.startIndex + last.column - 1 + rawLength(of: last, in: line)
        rules.append(Rule(number: rules.count + 1, decision: decision, perm: perm ?? .open,
                          subject: subject!, object: object!,
                          location: SourceLocation(file: at.file, line: at.line, column: words[0].column),
                          text: printable(line[start..<end])))
    }

    /// The tests of one side of a rule; nil when the side is empty, [] for `all`.
    mutating func tests(_ words: ArraySlice<Word>, subject: Bool, perm: inout Perm?, seen: inout Set<String>,
                        _ at: inout LineContext) -> [Test]? {
        let side = subject ? "subject" : "object"
        var tests: [Test] = []
        var all: Word?
        for w in words {
            if w.bytes == Array("all".utf8), !w.isQuoted { all = w; continue }
            guard let (name, comparison, value) = w.splitTest() else {
                at.error(w.column, "expected attr=value in the \(side), found '\(w.text)'")
                continue
            }
            guard seen.insert(name).inserted else {
                at.error(w.column, "'\(name)' is given twice in one rule (list the values: \(name)=a,b)")
                continue
            }
            if name == "perm" {
                guard subject else { at.error(w.column, "'perm' belongs before the ':'"); continue }
                guard comparison == .equal, let p = Perm(rawValue: value.text) else {
                    at.error(value.column, "perm must be open, execute or any")
                    continue
                }
                perm = p
                continue
            }
            guard let attribute = Attribute(rawValue: name) else {
                let names = Attribute.allCases.filter { $0.isSubject == subject }.map(\.rawValue)
                at.error(w.column, "unknown \(side) attribute '\(name)' (expected all, \(subject ? "perm, " : "")\(names.joined(separator: ", ")))")
                continue
            }
            guard attribute.isSubject == subject else {
                at.error(w.column, subject ? "'\(name)' is an object attribute: put it after the ':'"
                                           : "'\(name)' is a subject attribute: put it before the ':'")
                continue
            }
            if let test = test(attribute, comparison, value, &at) { tests.append(test) }
        }
        if let all, !tests.isEmpty { at.error(all.column, "'all' stands alone in the \(side)") }
        if all == nil && tests.isEmpty { return nil }
        return tests
    }

    mutating func test(_ attribute: Attribute, _ comparison: Comparison, _ value: Word, _ at: inout LineContext) -> Test? {
        let ordered = ![.equal, .notEqual].contains(comparison)
        if ordered, ![.id, .number].contains(attribute.kind) {
            at.error(value.column - comparison.rawValue.utf8.count, "'\(attribute.rawValue)' takes = or != only, not \(comparison.rawValue)")
            return nil
        }
        var values = value.split(at: UInt8(ascii: ","))
        var setName: String?
        if values.count == 1, values[0].bytes.first == UInt8(ascii: "%"), !values[0].isQuoted {
            let name = String(values[0].text.dropFirst())
            guard let set = sets[name] else {
                at.error(values[0].column, "unknown set '%\(name)' (define it on a line of its own before it is used)")
                return nil
            }
            values = set.values.map { var w = $0; w.column = values[0].column; return w }
            setName = name
        }
        if ordered, values.count != 1 {
            at.error(value.column, "\(comparison.rawValue) compares with one value, not a list")
            return nil
        }
        var patterns: [Pattern] = []
        for v in values {
            guard let p = at.pattern(for: attribute, v, inSet: setName) else { return nil }
            patterns.append(p)
        }
        return Test(attribute, comparison, patterns)
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
}

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
            error(v.column, "empty value")
            return nil
        }
        let globPrefix = Array("glob:".utf8)
        if v.bytes.starts(with: globPrefix), !v.quoted.prefix(5).contains(true) {
            guard [.bytes, .directory].contains(attribute.kind) else {
                error(v.column, "'\(attribute.rawValue)' takes no glob")
                return nil
            }
            let pattern = Array(v.bytes.dropFirst(5))
            if attribute != .comm && attribute != .device && attribute != .fstype && pattern.first != UInt8(ascii: "/") {
                error(v.column + 5, "a \(attribute.rawValue) glob must start with /")
                return nil
            }
            do { return .glob(try Glob(pattern)) } catch {
                self.error(v.column + 5 + error.offset, error.message)
                return nil
            }
        }
        switch attribute.kind {
        case .id:
            if let n = UInt32(v.text) { return .number(UInt64(n)) }
            let found = attribute == .gid ? groupID(v.text) : userID(v.text)
            guard let found else {
                error(v.column, "unknown \(attribute == .gid ? "group" : "user") '\(v.text)'")
                return nil
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
        case .hash:
            let hex = v.text.lowercased()
            guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                error(v.column, "a sha256hash is 64 hex digits")
                return nil
            }
            return .bytes(Array(hex.utf8))
        }
    }
}

/// The files of a policy folder: `*.policy`, not hidden, in byte order of their names.
func policyFiles(in folder: String) -> [String] {
    guard let dir = opendir(folder) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if !name.hasPrefix("."), name.hasSuffix(".policy") { names.append(name) }
    }
    return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
}

/// The uid of a user name, from the system's user database.
public func userID(_ name: String) -> UInt32? {
    guard let pw = getpwnam(name) else { return nil }
    return pw.pointee.pw_uid
}

/// The gid of a group name, from the system's group database.
public func groupID(_ name: String) -> UInt32? {
    guard let gr = getgrnam(name) else { return nil }
    return gr.pointee.gr_gid
}
