import AgentService
import ArgumentParser

extension LogTarget: ExpressibleByArgument {}

extension Fanfilter {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the agent in the foreground until SIGTERM or SIGINT.",
            discussion: AgentService.discussion
        )

        @OptionGroup var source: PolicySource

        @Option(help: ArgumentHelp(LogTarget.help, valueName: "journal|stderr|auto"))
        var logTarget: LogTarget = .auto

        func run() throws {
            let status = AgentService(origin: source.origin, logTarget: logTarget).run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}
