/// A `glob:` pattern over path bytes: `*` matches within one path component,
/// `**` across components (`/a/**/x` matches /a/x too), `?` one byte other than "/", `[abc]`, `[a-z]` and
/// `[!x]` one byte of (or not of) a class, `\\*` a `*` (a backslash quotes the
/// byte after it). Everything else matches itself.
public struct Glob: Sendable, Equatable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Equatable, Hashable {
        case literal(UInt8)
        case any            // ?
        case star           // *
        case doubleStar     // **
        case set(ranges: [ClosedRange<UInt8>], negated: Bool)
    }

    let tokens: [Token]
    public let source: [UInt8]

    /// Compiles `pattern`; throws a message and the byte offset of the problem.
    public init(_ pattern: [UInt8]) throws(GlobError) {
        var tokens: [Token] = []
        var i = 0
        while i < pattern.count {
            let c = pattern[i]
            switch c {
            case UInt8(ascii: "*"):
                if i + 1 < pattern.count, pattern[i + 1] == UInt8(ascii: "*") {
                    tokens.append(.doubleStar)
                    i += 2
                } else {
                    tokens.append(.star)
                    i += 1
                }
            case UInt8(ascii: "?"):
                tokens.append(.any)
                i += 1
            case UInt8(ascii: "["):
                var j = i + 1
                var negated = false
                if j < pattern.count, pattern[j] == UInt8(ascii: "!") || pattern[j] == UInt8(ascii: "^") {
                    negated = true
                    j += 1
                }
                var ranges: [ClosedRange<UInt8>] = []
                var first = true
                while j < pattern.count, pattern[j] != UInt8(ascii: "]") || first {
                    first = false
                    let low = pattern[j]
                    if j + 2 < pattern.count, pattern[j + 1] == UInt8(ascii: "-"), pattern[j + 2] != UInt8(ascii: "]") {
                        let high = pattern[j + 2]
                        guard low <= high else { throw GlobError(offset: j, message: "the range in a character class runs backwards") }
                        ranges.append(low...high)
                        j += 3
                    } else {
                        ranges.append(low...low)
                        j += 1
                    }
                }
                guard j < pattern.count else { throw GlobError(offset: i, message: "unclosed '[' in a glob") }
                tokens.append(.set(ranges: ranges, negated: negated))
                i = j + 1
            case UInt8(ascii: "\\") where i + 1 < pattern.count:
                // As fnmatch(3) and fapolicyd 2.0: a backslash quotes the byte after it.
                tokens.append(.literal(pattern[i + 1]))
                i += 2
            default:
                tokens.append(.literal(c))
                i += 1
            }
        }
        self.tokens = tokens
        self.source = pattern
    }

    public var description: String { "glob:" + printable(source) }

    /// The bytes every match starts with, up to the first wildcard.
    var literalPrefix: [UInt8] {
        var out: [UInt8] = []
        for t in tokens {
            guard case .literal(let c) = t else { break }
            out.append(c)
        }
        return out
    }

    public func matches<C: RandomAccessCollection>(_ text: C) -> Bool where C.Element == UInt8, C.Index == Int {
        var memo = [Int8](repeating: -1, count: (tokens.count + 1) * (text.count + 1))
        return match(0, text.startIndex, text, &memo)
    }

    /// Matches tokens[t...] against text[s...], memoised so that stars cost O(tokens × text).
    private func match<C: RandomAccessCollection>(_ t: Int, _ s: Int, _ text: C, _ memo: inout [Int8]) -> Bool
    where C.Element == UInt8, C.Index == Int {
        let key = t * (text.count + 1) + (s - text.startIndex)
        if memo[key] >= 0 { return memo[key] == 1 }
        let result: Bool
        if t == tokens.count {
            result = s == text.endIndex
        } else {
            switch tokens[t] {
            case .literal(let c):
                result = s < text.endIndex && text[s] == c && match(t + 1, s + 1, text, &memo)
            case .any:
                result = s < text.endIndex && text[s] != UInt8(ascii: "/") && match(t + 1, s + 1, text, &memo)
            case .set(let ranges, let negated):
                result = s < text.endIndex && text[s] != UInt8(ascii: "/")
                    && ranges.contains { $0.contains(text[s]) } != negated
                    && match(t + 1, s + 1, text, &memo)
            case .star:
                result = match(t + 1, s, text, &memo)
                    || (s < text.endIndex && text[s] != UInt8(ascii: "/") && match(t, s + 1, text, &memo))
            case .doubleStar:
                // `**/` also matches no folder at all: /a/**/x matches /a/x.
                let slashFollows = t + 1 < tokens.count && tokens[t + 1] == .literal(UInt8(ascii: "/"))
                result = match(t + 1, s, text, &memo)
                    || (slashFollows && match(t + 2, s, text, &memo))
                    || (s < text.endIndex && match(t, s + 1, text, &memo))
            }
        }
        memo[key] = result ? 1 : 0
        return result
    }
}
