// The client side of the port's conformance checks, for the Swift
// FilterPortClient library: the same steps and the same output lines as
// Tests/PortClients/conformance.py, so one test checks both clients.
// Steps: hello:ROLE:NAME prime:N get gets:N reply:allow|deny reply-prime:V reply-to:ID:V
// reply-large reply-status:N notice sleep:MS wait-end control:CMD[:ARG]
// decision disconnect open:PATH (raw: Python only).
//
//   fanfilter-port-conformance SOCKET STEP...
import FilterPortClient
import Glibc
import PortProtocol

func say(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

func endedName(_ error: FilterPortClientError) -> String {
    switch error {
    case .disconnected(let code?, _), .refused(let code, _): "\(code)"
    default: "closed"
    }
}

let roles: [String: Role] = ["decider": .decider, "observer": .observer, "control": .control]
let verdicts: [String: WireVerdict] = ["allow": .allow, "deny": .deny]
let commands: [String: ControlCommand] = ["status": .status, "reload": .reload, "set-mode": .setMode,
                                          "flush": .flushCaches, "clients": .clients, "metrics": .metrics]
let sources = ["rule", "on_timeout", "on_overload", "on_no_client", "client", "on_disconnect", "on_unknown_path", "default"]

func run(_ path: String, _ steps: ArraySlice<String>) throws(FilterPortClientError) {
    var port: FilterPortClient?
    var last: ClientMessage?
    for step in steps {
        let words = step.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch words[0] {
        case "hello":
            do {
                port = try FilterPortClient(path: path, hello: Hello(role: roles[words[1]]!, name: words[2]))
                say("welcome")
            } catch {
                say("refused \(endedName(error))")
                return
            }
        case "prime":
            try port!.prime(Int(words[1])!)
            say("primed \(words[1])")
        case "get":
            guard let m = try port!.getMessage(timeout: .seconds(10)) else { say("no-message"); continue }
            last = m
            if m.descriptor >= 0 { close(m.descriptor) }
            say("message \(m.messageId) \(m.event.access == .execute ? "execute" : "open") \(m.event.rule) "
                + "\(String(decoding: m.event.path, as: UTF8.self)) \(m.event.content.count) \(m.descriptor >= 0 ? "fd" : "no-fd")")
        case "gets":
            var got = 0
            while got < Int(words[1])!, try port!.getMessage(timeout: .seconds(10)) != nil { got += 1 }
            say("messages \(got)")
        case "open":
            let fd = open(words.dropFirst().joined(separator: ":"), O_RDONLY)
            if fd >= 0 { close(fd); say("open ok") } else { say("open \(errno == EPERM ? "EPERM" : "errno-\(errno)")") }
        case "reply":
            try port!.reply(last!.messageId, verdicts[words[1]]!)
            say("replied \(last!.messageId)")
        case "reply-prime":
            try port!.reply(last!.messageId, verdicts[words[1]]!, primeAgain: true)
            say("replied \(last!.messageId)")
        case "reply-to":
            try port!.reply(UInt64(words[1])!, verdicts[words[2]]!)
            say("replied \(words[1])")
        case "reply-large":
            try port!.reply(last!.messageId, status: 0, payload: [UInt8](repeating: 0, count: 8))
            say("replied \(last!.messageId)")
        case "reply-status":
            try port!.reply(last!.messageId, .allow, status: Int32(words[1])!)
            say("replied \(last!.messageId)")
        case "notice":
            let n = try port!.noWaiterNotice(timeout: .seconds(2))
            say(n.map { "notice \($0)" } ?? "no-notice")
        case "sleep":
            usleep(UInt32(words[1])! * 1000)
        case "wait-end":
            do {
                while try port!.getMessage(timeout: .seconds(10)) != nil {}
                say("still-open")
            } catch {
                say("ended \(endedName(error))")
            }
        case "control":
            let r = try port!.sendToFilter(commands[words[1]]!, argument: Array((words.count > 2 ? words[2] : "").utf8))
            say("control \(r.error?.rawValue ?? 0) \(r.body.utf8.count) \(r.body.split(separator: "\n").first.map(String.init) ?? "")")
        case "decision":
            guard let d = try port!.nextDecision(timeout: .seconds(5)) else { say("no-decision"); continue }
            say("decision \(d.verdict == .deny ? "deny" : "allow") \(sources[Int(d.source.rawValue)]) "
                + "\(String(decoding: d.path, as: UTF8.self)) lost=\(d.lost) client=\(String(decoding: d.client, as: UTF8.self))")
        case "disconnect":
            port!.disconnect()
            say("disconnected")
        case "raw":
            say("unsupported")  // the Swift library sends only well-formed frames
        default:
            say("unknown-step \(step)")
        }
    }
}

do { try run(CommandLine.arguments[1], CommandLine.arguments.dropFirst(2)) } catch { say("ended \(endedName(error))") }
