import AgentService
import ArgumentParser
import EventFacts
import Policy

extension Fanfilter {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show how the policy decides one access, and why.",
            discussion: """
            Needs neither root nor fanotify. Prints the decision, the rule that made it \
            (FILE:LINE and its text), and each rule tried before it with the reason it \
            did not match. Subject facts not given are unknown, as for a process that \
            exited: a rule that tests them does not match. When PATH exists, its size, \
            device, filesystem type and SHA-256 are read from it.

            Example: fanfilter explain --policy /etc/fanfilter/policy --perm execute \
            --exe /usr/bin/bash --uid 1000 /tmp/x.sh
            """
        )

        @OptionGroup var source: PolicySource

        @Option(help: ArgumentHelp("The access.", valueName: "open|execute"))
        var perm: Access = .open

        @Option(help: ArgumentHelp("The process's executable.", valueName: "path"))
        var exe: String?

        @Option(help: ArgumentHelp("Its effective user: a number or a name.", valueName: "user"))
        var uid: String?

        @Option(help: ArgumentHelp("Its effective group: a number or a name.", valueName: "group"))
        var gid: String?

        @Option(help: "Its comm (the kernel's 15-byte process name).")
        var comm: String?

        @Option(parsing: .unconditional, help: "Its process id.")
        var pid: Int32?

        @Option(parsing: .unconditional, help: "Its parent's process id.")
        var ppid: Int32?

        @Option(help: ArgumentHelp("Its login user (audit uid).", valueName: "user"))
        var auid: String?

        @Option(help: "Its audit session id.")
        var sessionid: UInt32?

        @Option(help: ArgumentHelp("How it was started (pattern=).", valueName: "normal|ld_so|static|ld_preload"))
        var pattern: String?

        @Argument(help: ArgumentHelp("The file opened or executed: an absolute path, as the kernel reports it.", valueName: "path"))
        var path: String

        func validate() throws {
            guard path.hasPrefix("/") else {
                throw ValidationError("the path must be absolute, as the kernel reports it (got '\(path)')")
            }
            for (name, value) in [("--pid", pid), ("--ppid", ppid)] {
                if let value, value < 1 { throw ValidationError("\(name) takes a process id, 1 or more (got \(value))") }
            }
            _ = try id(uid, "--uid", user: true)
            _ = try id(gid, "--gid", user: false)
            _ = try id(auid, "--auid", user: true)
            if let pattern, !StartPattern.names.contains(where: { $0.0 == pattern }) {
                throw ValidationError("--pattern takes normal, ld_so, static or ld_preload (got '\(pattern)')")
            }
        }

        func run() throws {
            let access = perm
            let policy: Policy
            do { policy = try source.load(ownership: .ignore) } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
            let subject = SubjectFacts(pid: pid ?? 0, ppid: ppid, uid: try id(uid, "--uid", user: true),
                                       gid: try id(gid, "--gid", user: false), auid: try id(auid, "--auid", user: true),
                                       sessionid: sessionid, comm: comm.map { Array($0.utf8) }, exe: exe.map { Array($0.utf8) })
            var request = AccessRequest(access: access, subject: subject,
                                        object: ObjectFacts(reading: Array(path.utf8), hashMaxSize: policy.settings.hashMaxSize))
            // ftype and trust as the agent would find them, for the file and for the executable,
            // when a rule tests them.
            let tested = policy.rules.reduce(into: Facts()) { facts, rule in
                for test in rule.subject + rule.object { facts.formUnion(test.facts) }
            }
            if !tested.isDisjoint(with: [.ftype, .trust]) {
                let file = FileTypeAndTrust(path: Array(path.utf8), settings: policy.settings)
                if tested.contains(.ftype) { request.object.ftype = file.ftype }
                if tested.contains(.trust) { request.object.trusted = file.trusted }
            }
            if let exe, !tested.isDisjoint(with: [.exeType, .exeTrust]) {
                let executable = FileTypeAndTrust(path: Array(exe.utf8), settings: policy.settings)
                if tested.contains(.exeType) { request.subject.exeType = executable.ftype }
                if tested.contains(.exeTrust) { request.subject.exeTrusted = executable.trusted }
            }
            request.subject.pattern = pattern.flatMap { name in StartPattern.names.first { $0.0 == name }?.1 }
            let (decision, tried) = policy.explain(request)
            let resolved = request.object.path.flatMap { $0 == Array(path.utf8) ? nil : " (the kernel names it \(printable($0)))" }
            print("\(access.rawValue) \(printable(Array(path.utf8)))" + (resolved ?? "") + describe(request.subject))
            let objectFacts = [request.object.ftype.map { "ftype=\(printable($0))" }, request.object.trusted.map { "trust=\($0 ? 1 : 0)" }]
                .compactMap { $0 }
            if !objectFacts.isEmpty { print("the file: " + objectFacts.joined(separator: " ")) }
            if let rule = decision.rule {
                print("decision: \(decision.verdict.rawValue), by rule \(rule.number) at \(rule.location.file):\(rule.location.line)")
                print("    \(rule.text)")
            } else {
                print("decision: \(decision.verdict.rawValue), as no rule matched (default = \(policy.settings.defaultVerdict.rawValue))")
            }
            if policy.agent.mode != .enforce, decision.verdict == .deny {
                print("mode \(policy.agent.mode.rawValue): the agent allows it and logs 'would deny'")
            }
            if decision.asks, let rule = decision.rule {
                print("ask: sent to a client on the port that serves rule \(rule.number); without one the answer is "
                      + "on_no_client (\(policy.settings.onNoClient.rawValue)), if it is late on_timeout, "
                      + "if it disconnects on_disconnect (\(policy.settings.onDisconnect.rawValue))")
            }
            if !tried.isEmpty {
                print("rules tried before it:")
                for (rule, reason) in tried {
                    print("  rule \(rule.number) at \(rule.location.file):\(rule.location.line): \(reason)")
                    print("    \(rule.text)")
                }
            }
        }

        func describe(_ s: SubjectFacts) -> String {
            var parts: [String] = []
            if let exe = s.exe { parts.append("exe=\(printable(exe))") }
            if let type = s.exeType { parts.append("exe ftype=\(printable(type))") }
            if let trusted = s.exeTrusted { parts.append("exe trust=\(trusted ? 1 : 0)") }
            if let uid = s.uid { parts.append("uid=\(uid)") }
            if let gid = s.gid { parts.append("gid=\(gid)") }
            if let comm = s.comm { parts.append("comm=\(printable(comm))") }
            return parts.isEmpty ? "" : " by " + parts.joined(separator: " ")
        }

        func id(_ text: String?, _ option: String, user: Bool) throws -> UInt32? {
            guard let text else { return nil }
            if let n = UInt32(text) { return n }
            guard let n = user ? userID(text) : groupID(text) else {
                throw ValidationError("\(option): no \(user ? "user" : "group") named '\(text)' on this machine (give a name it knows, or a number)")
            }
            return n
        }
    }
}

extension Access: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["open", "execute"] }
}
