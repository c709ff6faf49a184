/// The rules that could match one access to one path, in rule order, each
/// once: the rules anchored to the path or a folder of it (sorted), merged
/// as it goes with the rules anchored to no path. Made by `RuleIndex` for
/// `Policy.candidates(for:path:)`; a walk holds two arrays and copies no
/// request, so the first match may end it early at no cost.
public struct RuleCandidates: Sequence, IteratorProtocol {
    /// What they were found for: a decision on another access or path must not use them.
    let access: Access
    let path: [UInt8]?
    private let anchored: [Int]
    private let unanchored: [Int]
    private var a = 0, b = 0

    init(_ access: Access, path: [UInt8]?, anchored: [Int], unanchored: [Int]) {
        self.access = access
        self.path = path
        self.anchored = anchored
        self.unanchored = unanchored
    }

    public mutating func next() -> Int? {
        while a < anchored.count || b < unanchored.count {
            if b == unanchored.count || (a < anchored.count && anchored[a] < unanchored[b]) {
                let rule = anchored[a]
                a += 1
                // A rule anchored to two folders of the path came twice.
                if a < anchored.count, anchored[a] == rule { continue }
                return rule
            }
            b += 1
            return unanchored[b - 1]
        }
        return nil
    }
}
