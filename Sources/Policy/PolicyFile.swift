#if canImport(Glibc)
import Glibc
import SystemCall
import SystemPackage
#endif

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
    (try? FilePath(path).stat().type) == .directory
}

/// Reads a whole regular file, with what StrictModes would say of it. Only a
/// regular file is read (opened without blocking, so a FIFO cannot hang the
/// reader), and never more than `limit` bytes, whatever its size claims.
func readPolicyFile(_ path: String, limit: Int = maximumPolicySize) throws(ReadFailure) -> (bytes: [UInt8], unsafe: String?) {
    let file: FileDescriptor
    do { file = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec, .nonBlocking, .init(rawValue: O_NOCTTY)]) } catch {
        throw ReadFailure(message: "cannot open the policy: \(errorText(error))")
    }
    defer { try? file.close() }
    let st: stat
    do { st = try file.stat().rawValue } catch { throw ReadFailure(message: "cannot read the policy: \(errorText(error))") }
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
    do {
        return (try file.readToEnd(limit: limit), unsafe)
    } catch .fileTooLarge {
        throw ReadFailure(message: "the policy is larger than \(sizeText(limit))")
    } catch {
        throw ReadFailure(message: "cannot read the policy: \(error)")
    }
}

/// An errno's text alone, as strerror(3) gives it ("No such file or directory").
private func errorText(_ error: any Error) -> String {
    (error as? Errno).map { String(cString: strerror($0.rawValue)) } ?? "\(error)"
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

/// The files of a policy folder: `*.policy`, not hidden, in byte order of their names.
func policyFiles(in folder: String, suffix: String = ".policy") -> [String] {
    let names = ((try? Directory.names(in: folder)) ?? []).map { String(decoding: $0, as: UTF8.self) }
    return names.filter { !$0.hasPrefix(".") && $0.hasSuffix(suffix) }.sorted(by: naturalOrder)
}

/// Name order with runs of digits compared as numbers (`9-a` before `10-b`),
/// the order fagenrules reads a rules.d folder in.
func naturalOrder(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var i = 0, j = 0
    func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    while i < x.count && j < y.count {
        if isDigit(x[i]) && isDigit(y[j]) {
            var ei = i, ej = j
            while ei < x.count && isDigit(x[ei]) { ei += 1 }
            while ej < y.count && isDigit(y[ej]) { ej += 1 }
            // Compare the numbers without leading zeros: longer is larger, then digit by digit.
            let m = x[i..<ei].drop { $0 == 48 }, n = y[j..<ej].drop { $0 == 48 }
            if m.count != n.count { return m.count < n.count }
            if !m.elementsEqual(n) { return m.lexicographicallyPrecedes(n) }
            i = ei; j = ej
        } else {
            if x[i] != y[j] { return x[i] < y[j] }
            i += 1; j += 1
        }
    }
    return x.count - i < y.count - j || (x.count - i == y.count - j && x.lexicographicallyPrecedes(y))
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
