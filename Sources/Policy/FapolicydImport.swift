/// fapolicyd's configuration as a fanfilter policy (`fanfilter
/// import-fapolicyd`): each fapolicyd.conf setting with a fanfilter meaning
/// becomes that setting, every other one a comment that says why it has
/// none, and the rules are read where fapolicyd keeps them, unchanged.
public struct FapolicydImport {
    /// The policy's text.
    public private(set) var text = ""

    /// - Parameters:
    ///   - folder: fapolicyd's folder (/etc/fapolicyd).
    ///   - conf: fapolicyd.conf's text (nil: there is none).
    ///   - hasRulesFolder: whether `folder/rules.d` exists (else `folder/fapolicyd.rules` is read).
    public init(folder: String, conf: String?, hasRulesFolder: Bool) {
        var lines = ["# Imported from \(folder) by fanfilter import-fapolicyd.",
                     "# Check it with fanfilter check, then run it in permissive mode first.", ""]
        var settings: [(key: String, value: String)] = []
        for raw in (conf ?? "").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: " \t\r")
            guard !line.isEmpty, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: " \t").lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: " \t")
            settings.append((key, value))
        }
        if conf == nil { lines.append("# \(folder)/fapolicyd.conf: not found; fanfilter's defaults stand.") }
        for (key, value) in settings {
            let was = "# fapolicyd.conf: \(key) = \(value)"
            switch key {
            case "permissive":
                lines += [was, "mode = \(value == "0" ? "enforce" : "permissive")"]
            case "q_size":
                if let n = Int(value), n >= 1, n <= 1_048_576 { lines += [was, "queue_size = \(n)"] } else {
                    lines.append(was + "  (not a queue size fanfilter takes: its default stands)")
                }
            case "integrity":
                switch value.lowercased() {
                case "none", "size", "sha256": lines += [was, "integrity = \(value.lowercased())"]
                case "ima": lines += [was + "  (IMA is not read: the closest is sha256, a digest of the contents)", "integrity = sha256"]
                default: lines.append(was + "  (unknown: fanfilter's default, none, stands)")
                }
            case "obj_cache_size":
                if let n = Int(value), n >= 1, n <= 16_777_216 { lines += [was, "cache_size = \(n)"] } else { lines.append(was) }
            case "watch_fs":
                let types = value.split(separator: ",").map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
                lines += [was + "  (fanfilter marks each filesystem of those types, those mounted later too)",
                          "watch_fs = " + types.joined(separator: ",")]
            case "trust":
                lines.append(was + "  (fanfilter trust update reads dpkg's records, rpm's where rpm is installed, and the trust files;"
                             + " give it fapolicyd's: --trust-file \(folder)/fapolicyd.trust --trust-folder \(folder)/trust.d)")
            case "nice_val":
                if let n = Int(value), n >= 0, n <= 20 { lines += [was, "priority_boost = \(n)"] } else {
                    lines.append(was + "  (not a boost fanfilter takes, 0 to 20: its default stands)")
                }
            case "uid", "gid":
                lines.append(was + "  (fanfilter's systemd unit sets how it runs; it keeps root to answer every event)")
            case "do_stat_report", "detailed_report", "report_interval":
                lines.append(was + "  (fanfilter status and fanfilter metrics report at any time; see metrics_file)")
            case "db_max_size":
                lines.append(was + "  (fanfilter's trust database is sized to what it holds)")
            case "subj_cache_size":
                lines.append(was + "  (fanfilter keeps one decision cache: cache_size)")
            case "syslog_format":
                lines.append(was + "  (fanfilter's journal fields are fixed: see fanfilter.policy(5), Logging)")
            case "rpm_sha256_only":
                lines.append(was + "  (fanfilter keeps each package's own digest)")
            case "allow_filesystem_mark":
                lines.append(was + "  (fanfilter's watch marks a whole filesystem, watch_mount one mount)")
            default:
                lines.append(was + "  (unknown to fanfilter)")
            }
        }
        lines.append("")
        if hasRulesFolder {
            lines += ["# The rules, as fagenrules reads them.", "rules_dir = \(Self.quoted(folder + "/rules.d"))"]
        } else {
            lines += ["# The rules (no rules.d folder).", "include = \(Self.quoted(folder + "/fapolicyd.rules"))"]
        }
        text = lines.joined(separator: "\n") + "\n"
    }

    static func quoted(_ path: String) -> String {
        guard path.contains(where: { $0 == " " || $0 == "\t" || $0 == "#" || $0 == "\"" || $0 == "\\" }) else { return path }
        var out = "\""
        for c in path {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\t": out += "\\t"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String { self[...].trimmingCharacters(in: set) }
}
