import SystemPackage

/// The release this build is (`fanfilter --version`, `fanfilterd --version`).
public let fanfilterVersion = "0.5.0"

/// Writes `text` and a newline to standard error (one write: lines from threads never interleave).
public func printError(_ text: String) {
    _ = try? FileDescriptor.standardError.writeAll((text + "\n").utf8)
}

/// "1 rule", "2 rules".
public func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
