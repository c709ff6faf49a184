import AgentService
import ArgumentParser
import EventFacts
import TrustStore

extension Fanfilter {
    struct Ftype: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ftype",
            abstract: "Print the file type an ftype= rule would see for each file.",
            discussion: """
            Reads each file as the agent reads an event's file: ELF files by their headers \
            (application/x-executable, application/x-sharedlib, application/x-bad-elf, \
            application/x-object, application/x-coredump), scripts by their #! line \
            (text/x-shellscript, text/x-python, ...), empty files as application/x-empty, \
            devices and FIFOs as inode/TYPE, anything else by libmagic. An ELF \
            interpreter that is not a known runtime linker makes the file bad unless the \
            trust database lists it. Needs no root; a file that cannot be read is named \
            on standard error, and the exit status is then 1.

            Example: fanfilter ftype /usr/bin/ls /usr/bin/ldd
            """
        )

        @Option(name: .customLong("trust-db"), help: ArgumentHelp("The trust database, for interpreters that are not known runtime linkers.", valueName: "path"))
        var trustDatabase = "/var/lib/fanfilter/trust.mdb"

        @Argument(help: ArgumentHelp("The files.", valueName: "path"))
        var paths: [String]

        func run() throws {
            let types = FileTypes(capacity: 16)
            let trust = try? TrustDatabase(path: trustDatabase)
            var failed = false
            for path in paths {
                do {
                    let type = try types.mimeType(ofPath: path) { trust?.lookUp($0) != nil }
                    print(paths.count == 1 ? type : "\(path): \(type)")
                } catch {
                    printError("fanfilter ftype: \(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
