import ArgumentParser
import FanFilter
import Glibc
import Policy

extension Fanfilter {
    struct ImportFapolicyd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-fapolicyd",
            abstract: "Print a fanfilter policy equivalent to a fapolicyd configuration.",
            discussion: """
            Reads FOLDER/fapolicyd.conf and names FOLDER's rules where fapolicyd keeps them \
            (rules_dir = FOLDER/rules.d, read in fagenrules' order, or FOLDER/fapolicyd.rules), \
            unchanged. Each fapolicyd.conf setting with a fanfilter meaning becomes that setting \
            (permissive, q_size, integrity, obj_cache_size; watch_fs becomes a watch_mount line \
            for each mount of those types on this machine now); every other one is a comment \
            that says why it has none. The policy is checked before it is printed: exit status \
            1, with the errors on standard error, when it does not load.

            Example: fanfilter import-fapolicyd > /etc/fanfilter/policy
            """
        )

        @Argument(help: ArgumentHelp("fapolicyd's folder.", valueName: "folder"))
        var folder = "/etc/fapolicyd"

        func run() throws {
            let base = folder.count > 1 && folder.hasSuffix("/") ? String(folder.dropLast()) : folder
            let conf = readWholeFile(base + "/fapolicyd.conf").map { String(decoding: $0, as: UTF8.self) }
            var st = stat()
            let hasRules = stat(base + "/rules.d", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
            let imported = FapolicydImport(folder: base, conf: conf, hasRulesFolder: hasRules, mounts: Self.mounts())
            do {
                _ = try Policy.parse(Array(imported.text.utf8), file: "<imported from \(base)>")
            } catch {
                for d in error.diagnostics where d.severity == .error { printError("fanfilter import-fapolicyd: \(d)") }
                print(imported.text, terminator: "")
                throw ExitCode(1)
            }
            print(imported.text, terminator: "")
        }

        /// /proc/self/mounts: mount points (octal escapes undone) and types.
        static func mounts() -> [FapolicydImport.Mount] {
            guard let bytes = readWholeFile("/proc/self/mounts") else { return [] }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count >= 3 else { return nil }
                return FapolicydImport.Mount(point: unescape(fields[1]), type: String(fields[2]))
            }
        }

        static func unescape(_ field: Substring) -> String {
            var bytes: [UInt8] = []
            var i = field.utf8.startIndex
            let u = field.utf8
            while i < u.endIndex {
                if u[i] == UInt8(ascii: "\\"), u.distance(from: i, to: u.endIndex) >= 4,
                   let n = UInt8(String(decoding: u[u.index(after: i)..<u.index(i, offsetBy: 4)], as: UTF8.self), radix: 8) {
                    bytes.append(n)
                    i = u.index(i, offsetBy: 4)
                } else {
                    bytes.append(u[i])
                    i = u.index(after: i)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
