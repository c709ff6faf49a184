import ArgumentParser

extension Fanfilter {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a running agent's state.",
            discussion: """
            Asks the running agent through its socket (root, or a member of port_group): \
            uptime, the policy file and its SHA-256, the rule count, the mode, the kernel \
            features in use, the events in flight, every counter, and the connected \
            clients with their names and in-flight counts. Exit status 1 when no agent answers.
            """)
        @OptionGroup var port: PortOptions
        @Flag(help: "Print JSON (one object) instead of lines.") var json = false

        func run() throws { try port.request(.status, argument: json ? "json" : "") }
    }
}
