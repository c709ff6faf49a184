/// Earlier rules, found by the values a later rule would have to share with
/// them to be covered: rule E covers rule L only if each test of E is implied
/// by a test of L, so E is filed under the values of one of its `=` tests
/// (its key) and found from L's values (a `dir=` or `exe_dir=` key from each
/// folder above L's path). Rules with no such test are always candidates.
struct ShadowIndex {
    static let candidateLimit = 256

    private struct Key: Hashable {
        var attribute: Attribute
        var value: [UInt8]
    }

    private var exact: [Key: [Int]] = [:]
    private var folders: [Key: [Int]] = [:]
    private var unkeyed: [Int] = []

    mutating func add(_ n: Int, _ rule: Rule) {
        // The most selective key: exact values (a path, a uid) before folders.
        let tests = (rule.object + rule.subject).filter { $0.comparison == .equal && !$0.values.isEmpty }
        let keyTest = tests.first { $0.values.allSatisfy { if case .bytes = $0 { true } else if case .number = $0 { true } else { false } } }
            ?? tests.first { $0.values.allSatisfy { if case .prefix = $0 { true } else { false } } }
        guard let keyTest else { return unkeyed.append(n) }
        for value in keyTest.values {
            switch value {
            case .bytes(let b): exact[Key(attribute: keyTest.attribute, value: b), default: []].append(n)
            case .number(let x): exact[Key(attribute: keyTest.attribute, value: Array(String(x).utf8)), default: []].append(n)
            case .prefix(let p): folders[Key(attribute: keyTest.attribute, value: p), default: []].append(n)
            case .glob, .untrusted, .nothing: break
            }
        }
    }

    /// The earlier rules that could cover `rule`, ascending, and whether that
    /// list is whole (false when the limit cut it).
    func candidates(covering rule: Rule) -> ([Int], complete: Bool) {
        var found = unkeyed.prefix(Self.candidateLimit + 1).map { $0 }
        func take(_ list: [Int]?) {
            guard let list else { return }
            found += list.prefix(Self.candidateLimit + 1)
        }
        for test in rule.object + rule.subject where test.comparison == .equal {
            guard let value = test.values.first else { continue }
            let folderAttribute: Attribute? = switch test.attribute {
            case .path, .dir: .dir
            case .exe, .exeDir: .exeDir
            default: nil
            }
            var bytes: [UInt8]
            switch value {
            case .bytes(let b):
                bytes = b
                take(exact[Key(attribute: test.attribute, value: b)])
            case .number(let x):
                bytes = []
                take(exact[Key(attribute: test.attribute, value: Array(String(x).utf8))])
            case .prefix(let p): bytes = p
            case .glob, .untrusted, .nothing: bytes = []
            }
            guard let folderAttribute else { continue }
            for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "/") {
                take(folders[Key(attribute: folderAttribute, value: Array(bytes[...i]))])
            }
        }
        let sorted = Set(found).sorted()
        return (Array(sorted.prefix(Self.candidateLimit)), sorted.count <= Self.candidateLimit)
    }
}
