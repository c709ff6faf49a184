import AgentService
import ArgumentParser

@main
struct Fanfilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanfilter",
        abstract: "Decide file opens and executions with fanotify permission events.",
        discussion: """
        fanfilter marks the filesystems a policy names and answers every open and \
        execution on them, allow or deny, within the policy's reply_timeout. The \
        policy is one file (default /etc/fanfilter/policy when installed) in \
        fapolicyd's rule language: `decision perm=P subject : object`, first match wins.
        """,
        version: fanfilterVersion,
        subcommands: [Run.self, Check.self, Explain.self, Rules.self, Ftype.self, Trust.self, ImportFapolicyd.self, Status.self, Reload.self, Clients.self, Monitor.self, SetMode.self, Flush.self, Metrics.self]
    )
}
