#if canImport(Glibc)
import Glibc
#endif

/// The parser's state across one policy and its includes.
struct PolicyParser {
    let ownership: OwnershipCheck
    var agent = AgentSettings()
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
        return Policy(agent: agent, settings: settings, rules: rules, source: source, warnings: diagnostics)
    }

    mutating func report(_ severity: PolicyDiagnostic.Severity, _ file: String, _ line: Int, _ column: Int, _ message: String) {
        diagnostics.append(PolicyDiagnostic(location: SourceLocation(file: file, line: line, column: column),
                                            severity: severity, message: message))
    }

    // MARK: files

    /// Reads a file, or every `*.policy` file of a folder in name order.
    mutating func include(_ path: String, from: SourceLocation?, depth: Int, suffix: String = ".policy") {
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
            var names = policyFiles(in: path, suffix: suffix)
            // A fapolicyd rules.d folder included as it is: its *.rules files, as rules_dir reads them.
            if names.isEmpty, suffix == ".policy" { names = policyFiles(in: path, suffix: ".rules") }
            for name in names { include(base + name, from: from, depth: depth + 1) }
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
        if first.bytes.first == UInt8(ascii: "%"), first.quoted.first == false {
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

    static let settingNames = ["watch", "watch_mount", "watch_fs", "mode", "workers", "prime", "reply_timeout", "on_timeout",
                               "on_timeout_execute", "queue_size", "queue_per_user", "on_overload", "on_overload_execute",
                               "on_unknown_path", "on_unknown_path_execute", "default", "on_no_client",
                               "hash_max_size", "log_rate", "cache", "cache_size", "spin", "priority_boost", "metrics_file",
                               "metrics_interval", "port_socket", "port_group", "max_connections", "on_disconnect",
                               "content_bytes", "pass_fd", "integrity", "trust_db", "include", "rules_dir"]

    /// The filesystems the agent reads to decide, which it never watches.
    static let undecidableTypes: Set<String> = ["proc", "sysfs"]

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
        if !["watch", "watch_mount", "include", "rules_dir"].contains(name) {
            if let earlier = settingLocations[name] {
                let whereText = earlier.file == at.file ? "on line \(earlier.line)" : "at \(earlier.file):\(earlier.line)"
                return at.error(key.column, "'\(name)' is already set \(whereText)")
            }
            settingLocations[name] = SourceLocation(file: at.file, line: at.line, column: key.column)
        }
        switch name {
        case "watch", "watch_mount", "watch_fs", "include", "rules_dir": parseWhere(name, value, &at, depth: depth)
        default: parseValue(name, value, &at)
        }
    }

    /// The settings that say where: what to watch, and which files to read next.
    private mutating func parseWhere(_ name: String, _ value: Word, _ at: inout LineContext, depth: Int) {
        switch name {
        case "watch", "watch_mount":
            guard let path = at.absolutePath(value) else { return }
            if name == "watch" { agent.watch.append(path) } else { agent.watchMounts.append(path) }
        case "watch_fs":
            for type in value.split(at: UInt8(ascii: ",")) {
                let name = type.text
                guard !name.isEmpty, name.utf8.allSatisfy({ $0 < 128 && (Character(Unicode.Scalar($0)).isLetter || Character(Unicode.Scalar($0)).isNumber || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")) }) else {
                    return at.error(type.column, "'\(type.text)' is not a filesystem type (such as ext4, xfs, tmpfs)")
                }
                guard !Self.undecidableTypes.contains(name) else {
                    return at.error(type.column, "watch_fs cannot take \(name): fanfilter reads /proc and /sys to decide, so it cannot decide opens there")
                }
                agent.watchTypes.append(Array(name.utf8))
            }
        case "include":
            let target = value.text.hasPrefix("/") ? value.text : directory(of: at.file) + value.text
            diagnostics += at.diagnostics
            at.diagnostics = []
            include(target, from: SourceLocation(file: at.file, line: at.line, column: value.column), depth: depth + 1)
        case "rules_dir":
            // A fapolicyd rules.d folder: its *.rules files in fagenrules' order.
            let target = value.text.hasPrefix("/") ? value.text : directory(of: at.file) + value.text
            guard isDirectory(target) else { return at.error(value.column, "rules_dir '\(value.text)' is not a folder") }
            diagnostics += at.diagnostics
            at.diagnostics = []
            include(target, from: SourceLocation(file: at.file, line: at.line, column: value.column), depth: depth + 1,
                    suffix: ".rules")
        default: break
        }
    }

    /// The settings that take one value.
    private mutating func parseValue(_ name: String, _ value: Word, _ at: inout LineContext) {
        switch name {
        case "integrity":
            guard let integrity = Integrity(rawValue: value.text) else {
                return at.error(value.column, "unknown integrity '\(value.text)' (expected none, size or sha256)")
            }
            settings.integrity = integrity
        case "trust_db": if let path = at.absolutePath(value) { settings.trustDatabase = path }
        case "mode":
            guard let mode = Mode(rawValue: value.text) else {
                return at.error(value.column, "unknown mode '\(value.text)' (expected enforce, permissive or observe)")
            }
            agent.mode = mode
        case "workers": if let n = at.integer(value, in: 1...256) { agent.workers = n }
        case "prime": if let n = at.integer(value, in: 1...64) { agent.prime = n }
        case "priority_boost": if let n = at.integer(value, in: 0...20) { agent.priorityBoost = n }
        case "queue_size": if let n = at.integer(value, in: 1...1_048_576) { agent.queueSize = n }
        case "queue_per_user": if let n = at.integer(value, in: 0...1_048_576) { agent.queuePerUser = n }
        case "log_rate": if let n = at.integer(value, in: 1...1_000_000) { agent.logRate = n }
        case "reply_timeout": if let d = at.duration(value) { agent.replyTimeout = d }
        case "on_timeout": if let v = at.verdict(value) { agent.onTimeout = v }
        case "on_timeout_execute": if let v = at.verdict(value) { agent.onTimeoutExecute = v }
        case "on_overload": if let v = at.verdict(value) { agent.onOverload = v }
        case "on_overload_execute": if let v = at.verdict(value) { agent.onOverloadExecute = v }
        case "on_unknown_path": if let v = at.verdict(value) { settings.onUnknownPath = v }
        case "on_unknown_path_execute": if let v = at.verdict(value) { settings.onUnknownPathExecute = v }
        case "default": if let v = at.verdict(value) { settings.defaultVerdict = v }
        case "on_no_client": if let v = at.verdict(value) { settings.onNoClient = v }
        case "hash_max_size": if let n = at.size(value) { settings.hashMaxSize = n }
        case "cache":
            guard let mode = CacheMode(rawValue: value.text) else {
                return at.error(value.column, "unknown cache '\(value.text)' (expected kernel, user or off)")
            }
            agent.cache = mode
        case "cache_size": if let n = at.integer(value, in: 1...16_777_216) { agent.cacheSize = n }
        case "spin":
            guard let spin = SpinMode(rawValue: value.text) else {
                return at.error(value.column, "unknown spin '\(value.text)' (expected auto or off)")
            }
            agent.spin = spin
        case "metrics_file": if let path = at.absolutePath(value) { agent.metricsFile = path }
        case "metrics_interval":
            guard let d = at.duration(value) else { return }
            guard d >= .seconds(1), d <= .seconds(3600) else { return at.error(value.column, "metrics_interval must be from 1s to 3600s") }
            agent.metricsInterval = d
        case "port_socket":
            if value.text == "none" { agent.portSocket = nil } else if let path = at.absolutePath(value) {
                guard path.count < 108 else { return at.error(value.column, "port_socket must be shorter than 108 bytes (a Unix socket's address)") }
                agent.portSocket = path
            }
        case "port_group":
            guard value.bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }) else {
                return at.error(value.column, "port_group must be a group name or number")
            }
            agent.portGroup = value.text
        case "max_connections": if let n = at.integer(value, in: 1...64) { agent.maxConnections = n }
        case "on_disconnect": if let v = at.verdict(value) { settings.onDisconnect = v }
        case "content_bytes": if let n = at.integer(value, in: 0...65536) { agent.contentBytes = n }
        case "pass_fd":
            switch value.text {
            case "yes": agent.passDescriptor = true
            case "no": agent.passDescriptor = false
            default: return at.error(value.column, "pass_fd must be yes or no")
            }
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
        var anyType = false
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
            guard let attribute = Attribute.named(name, subject: subject) else {
                if !subject, name == "mode" {
                    // fapolicyd before 1.5 parsed it and then skipped the test (no event ever had the
                    // fact), so its rules applied to every file; 1.5 removed it.
                    at.error(w.column, "object attribute 'mode' is not supported: fapolicyd before 1.5 read it but never tested it, so a rule with it applied to every file, and fapolicyd 1.5 removed it; take 'mode=\(value.text)' out of the rule to keep what fapolicyd did")
                } else if Attribute.named(name, subject: !subject) != nil {
                    at.error(w.column, subject ? "'\(name)' is an object attribute: put it after the ':'"
                                               : "'\(name)' is a subject attribute: put it before the ':'")
                } else {
                    let names = Attribute.allCases.filter { $0.isSubject == subject }.map(\.name)
                    at.error(w.column, "unknown \(side) attribute '\(name)' (expected all, \(subject ? "perm, " : "")\(names.joined(separator: ", ")))")
                }
                continue
            }
            if attribute == .ftype, value.split(at: UInt8(ascii: ",")).contains(where: { $0.bytes == Array("any".utf8) && !$0.isQuoted }) {
                // fapolicyd: `ftype=any` matches every file, so the test is left out (and no type is read).
                if comparison == .equal { anyType = true } else { at.error(value.column, "ftype!=any matches no file") }
                continue
            }
            if let test = test(attribute, comparison, value, &at) { tests.append(test) }
        }
        if let all, !tests.isEmpty { at.error(all.column, "'all' stands alone in the \(side)") }
        if all == nil && tests.isEmpty && !anyType { return nil }
        return tests
    }

    mutating func test(_ attribute: Attribute, _ comparison: Comparison, _ value: Word, _ at: inout LineContext) -> Test? {
        let ordered = ![.equal, .notEqual].contains(comparison)
        if ordered, ![.id, .number].contains(attribute.kind) {
            at.error(value.column - comparison.rawValue.utf8.count, "'\(attribute.name)' takes = or != only, not \(comparison.rawValue)")
            return nil
        }
        var values = value.split(at: UInt8(ascii: ","))
        var setName: String?
        if values.count == 1, values[0].bytes.first == UInt8(ascii: "%"), !values[0].isQuoted {
            let name = String(values[0].text.dropFirst())
            if let set = sets[name] {
                values = set.values.map { var w = $0; w.column = values[0].column; return w }
                setName = name
            } else if let path = Self.buildMacro(name) {
                // fapolicyd's rules.d sources name these paths for its build to fill in.
                values = [Word(bytes: Array(path.utf8), column: values[0].column)]
            } else {
                at.error(values[0].column, "unknown set '%\(name)' (define it on a line of its own before it is used)")
                return nil
            }
        }
        if ordered, values.count != 1 {
            at.error(value.column, "\(comparison.rawValue) compares with one value, not a list")
            return nil
        }
        var attribute = attribute
        if attribute == .sha256hash, values.contains(where: { $0.bytes.count == 128 }) {
            // fapolicyd 2.0 compares a digest as long as the file's: 128 hex digits are a SHA-512.
            guard values.allSatisfy({ $0.bytes.count == 128 }) else {
                at.error(value.column, "one filehash test compares SHA-256 digests (64 hex digits) or SHA-512 ones (128), not both: write a rule for each")
                return nil
            }
            attribute = .sha512hash
        }
        if attribute == .pattern, values.count != 1 {
            at.error(value.column, "pattern takes one value (as in fapolicyd): write one rule for each")
            return nil
        }
        var patterns: [Pattern] = []
        for v in values {
            if let macro = Self.macro(v, for: attribute) {
                patterns += macro
                continue
            }
            guard let p = at.pattern(for: attribute, v, inSet: setName) else { return nil }
            patterns.append(p)
        }
        if comparison == .equal, !patterns.isEmpty, patterns.allSatisfy({ if case .nothing = $0 { true } else { false } }) {
            at.warning(value.column, "\(attribute.name)=\(value.text.isEmpty ? "" : value.text) names nothing on this machine: the rule never matches")
        }
        return Test(attribute, comparison, patterns)
    }

    /// The paths of `%ld_so_path%` and `%python3_path%`, which fapolicyd's
    /// rules.d sources leave for its build to fill in: this machine's runtime
    /// linker and python3 (nil for any other name).
    static func buildMacro(_ name: String) -> String? {
        switch name {
        case "ld_so_path%":
            return ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux.so.2"]
                .first { access($0, F_OK) == 0 } ?? "/lib64/ld-linux-x86-64.so.2"
        case "python3_path%":
            guard let real = realpath("/usr/bin/python3", nil) else { return "/usr/bin/python3" }
            defer { free(real) }
            return String(cString: real)
        default: return nil
        }
    }

    /// The folders fapolicyd's `execdirs` stands for; `systemdirs` adds /etc/.
    static let execDirectories = ["/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/usr/libexec/"]

    /// fapolicyd's macro values: `dir=execdirs|systemdirs|untrusted`,
    /// `exe=untrusted`, `path=untrusted`. nil for any other value.
    static func macro(_ v: Word, for attribute: Attribute) -> [Pattern]? {
        guard !v.isQuoted else { return nil }
        switch (v.text, attribute) {
        case ("execdirs", .dir), ("execdirs", .exeDir): return execDirectories.map { .prefix(Array($0.utf8)) }
        case ("systemdirs", .dir), ("systemdirs", .exeDir): return (["/etc/"] + execDirectories).map { .prefix(Array($0.utf8)) }
        case ("untrusted", _) where attribute.untrustedFact != nil: return [.untrusted]
        default: return nil
        }
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
