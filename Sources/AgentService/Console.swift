import Glibc

/// The release this build is (`fanfilter --version`, `fanfilterd --version`).
public let fanfilterVersion = "0.5.0"

/// Writes `text` and a newline to standard error (one write: lines from threads never interleave).
public func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// "1 rule", "2 rules".
public func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
