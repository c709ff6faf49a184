import AgentService
import ArgumentParser
import Policy

extension Fanfilter {
    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the policy's rules, numbered as logs and audit records name them.",
            discussion: "Includes and policy.d/ files are merged in the order the agent reads them."
        )

        @OptionGroup var policyFile: PolicyFileArguments

        func run() throws {
            let source = policyFile.resolved
            let policy: Policy
            do { policy = try source.load(ownership: .ignore) } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
            let width = String(policy.rules.count).count
            for rule in policy.rules {
                let n = String(rule.number)
                print(String(repeating: " ", count: width - n.count) + n + "  \(rule.location.file):\(rule.location.line)  \(rule.text)")
            }
        }
    }
}
