import AgentService
import Glibc

// The agent's own executable, as the systemd unit runs it. It is what
// `fanfilter run` runs, without the command-line tool's parser and
// Foundation, so the service keeps less resident.
switch DaemonArguments.parse(CommandLine.arguments.dropFirst()) {
case .help:
    print(DaemonArguments.helpText, terminator: "")
case .version:
    print(fanfilterVersion)
case .usageError(let problem):
    printError("fanfilterd: \(problem) (fanfilterd --help lists the options)")
    exit(64)
case .run(let policy, let logTarget):
    exit(AgentService(origin: PolicyOrigin(path: policy), logTarget: logTarget).run())
}
