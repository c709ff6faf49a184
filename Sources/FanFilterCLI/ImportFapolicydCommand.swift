import AgentService
import ArgumentParser
import Fanotify
import Glibc
import Policy
import SystemCall
import SystemPackage

extension Fanfilter {
    struct ImportFapolicyd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-fapolicyd",
            abstract: "Print a fanfilter policy equivalent to a fapolicyd configuration.",
            discussion: """
            Reads FOLDER/fapolicyd.conf and names FOLDER's rules where fapolicyd keeps them \
            (rules_dir = FOLDER/rules.d, read in fagenrules' order, or FOLDER/fapolicyd.rules), \
            unchanged. Each fapolicyd.conf setting with a fanfilter meaning becomes that setting \
            (permissive, q_size, integrity, obj_cache_size, watch_fs); every other one is a comment \
            that says why it has none. The policy is checked before it is printed: exit status \
            1, with the errors on standard error, when it does not load.

            Example: fanfilter import-fapolicyd > /etc/fanfilter/policy
            """
        )

        @Argument(help: ArgumentHelp("fapolicyd's folder.", valueName: "folder"))
        var folder = "/etc/fapolicyd"

        func run() throws {
            let base = folder.count > 1 && folder.hasSuffix("/") ? String(folder.dropLast()) : folder
            let conf = WholeFile.read(base + "/fapolicyd.conf").map { String(decoding: $0, as: UTF8.self) }
            let hasRules = (try? FilePath(base + "/rules.d").stat().type) == .directory
            let imported = FapolicydImport(folder: base, conf: conf, hasRulesFolder: hasRules)
            do {
                _ = try Policy.parse(Array(imported.text.utf8), file: "<imported from \(base)>")
            } catch {
                for d in error.diagnostics where d.severity == .error { printError("fanfilter import-fapolicyd: \(d)") }
                print(imported.text, terminator: "")
                throw ExitCode(1)
            }
            print(imported.text, terminator: "")
        }

    }
}
