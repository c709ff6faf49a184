/// `fanfilterd`'s command line, read without swift-argument-parser (the
/// daemon links neither it nor Foundation, which it brings in). Guarantee:
/// every argument is either understood or named in the error; nothing is
/// ignored.
public enum DaemonArguments: Equatable, Sendable {
    case run(policy: String?, logTarget: LogTarget)
    case help
    case version
    /// What is wrong with the command line, for standard error (exit status 64, EX_USAGE).
    case usageError(String)

    public static func parse(_ arguments: some Sequence<String>) -> DaemonArguments {
        var policy: String?
        var logTarget = LogTarget.auto
        var rest = Array(arguments)[...]
        while let argument = rest.popFirst() {
            let (name, attached) = split(argument)
            switch name {
            case "-h", "--help": return .help
            case "--version": return .version
            case "--policy", "--log-target":
                guard let value = attached ?? rest.popFirst() else { return .usageError("\(name) needs a value") }
                if name == "--policy" {
                    guard !value.isEmpty else { return .usageError("--policy needs a file name") }
                    policy = value
                } else {
                    guard let target = LogTarget(rawValue: value) else {
                        return .usageError("--log-target \(value): expected journal, stderr or auto")
                    }
                    logTarget = target
                }
            default:
                return .usageError(argument.hasPrefix("-") ? "unknown option \(argument)" : "unexpected argument \(argument)")
            }
        }
        return .run(policy: policy, logTarget: logTarget)
    }

    /// `--name=value` as (name, value); anything else as (argument, nil).
    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// `fanfilterd --help`: usage, options, then what the agent does, wrapped at 80 columns.
    public static var helpText: String {
        var text = """
        OVERVIEW: The fanfilter agent, as systemd runs it: decide file opens and executions with fanotify permission events.

        USAGE: fanfilterd [--policy <file>] [--log-target <journal|stderr|auto>]

        OPTIONS:
          --policy <file>
                                  The policy file. Without it, the built-in default policy (the shipped fanfilter.policy) is used.
          --log-target <journal|stderr|auto>
                                  \(LogTarget.help) (default: auto)
          --version               Show the version.
          -h, --help              Show help information.

        `fanfilter run` takes the same options and runs the same agent.

        """
        text += AgentService.discussion
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { wrap(String($0), width: 80) }.joined(separator: "\n") + "\n"
    }

    /// One line broken at spaces to `width` columns, continuation lines indented as the first.
    static func wrap(_ line: String, width: Int) -> String {
        let indent = String(line.prefix { $0 == " " })
        var lines: [String] = []
        var current = ""
        for word in line.dropFirst(indent.count).split(separator: " ") {
            if !current.isEmpty, indent.count + current.count + 1 + word.count > width {
                lines.append(indent + current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        lines.append(indent + current)
        return lines.joined(separator: "\n")
    }
}
