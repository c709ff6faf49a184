/// The counters of the agent's last "stopped: " line in `output` (its log),
/// by name (`events=12 responses=12 …`); empty when it logged none.
public func stopCounters(_ output: String) -> [String: UInt64] {
    guard let summary = output.split(separator: "\n").last(where: { $0.contains("stopped: ") }) else { return [:] }
    return Dictionary(summary.split(separator: " ").compactMap { word -> (String, UInt64)? in
        let kv = word.split(separator: "=")
        guard kv.count == 2, let n = UInt64(kv[1]) else { return nil }
        return (String(kv[0]), n)
    }, uniquingKeysWith: { first, _ in first })
}
