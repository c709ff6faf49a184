import ArgumentParser

extension Fanfilter {
    struct SetMode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-mode",
            abstract: "Switch a running agent to enforce, permissive or observe mode until it restarts.",
            discussion: "The policy file is read again with this mode in place of its own; reloads keep it; a restart goes back to the file's.")
        @OptionGroup var port: PortOptions
        @Argument(help: ArgumentHelp("enforce, permissive or observe.", valueName: "mode")) var mode: String

        func run() throws { try port.request(.setMode, argument: mode) }
    }
}
