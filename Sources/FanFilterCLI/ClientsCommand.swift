import ArgumentParser

extension Fanfilter {
    struct Clients: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the clients connected to a running agent's port.",
            discussion: "For each: its name, role (decider, observer, control), pid, uid, messages in flight, gets primed, messages handled.")
        @OptionGroup var port: PortOptions
        @Flag(help: "Print JSON (an array) instead of lines.") var json = false

        func run() throws { try port.request(.clients, argument: json ? "json" : "") }
    }
}
