// fanfilter-clamd: a decider for fanfilter's `ask` rules that hands each
// event's file to a running ClamAV daemon, and denies what clamd finds.
//
//   fanfilter-clamd [requests-per-thread] [threads] [--clamd PATH] [--socket PATH] [--name NAME]
//
// The policy must say `pass_fd = yes`: each message then carries a read-only
// descriptor of the file, which this client passes on to clamd with its
// FILDES command over clamd's local socket (default Debian's
// /run/clamav/clamd.ctl). clamd scans that descriptor (never the path, which
// would raise another event); "FOUND" denies, "OK" allows, and anything else
// (clamd down, an error) answers with a non-zero status, which the agent
// turns into on_timeout. Each thread has its own clamd connection per scan,
// so scans run side by side, up to `threads` at once (defaults 5 and 4);
// it prints the most it has seen in flight.
import CPortSocket
import Dispatch
import FilterPortClient
import Glibc
import PortProtocol
import Synchronization

func say(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

func fail(_ text: String, _ status: Int32) -> Never {
    var line = "fanfilter-clamd: " + text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(status)
}

/// What clamd said of one file.
enum ScanResult {
    case clean
    case found(String)
    case failed(String)
}

/// One FILDES request on a connection of its own.
func scan(_ fd: Int32, clamd: String) -> ScanResult {
    let c = cport_connect_stream(clamd)
    guard c >= 0 else { return .failed("cannot connect to clamd at \(clamd): \(String(cString: strerror(-c)))") }
    defer { close(c) }
    let command = Array("zFILDES\0".utf8)
    guard command.withUnsafeBytes({ cport_send(c, $0.baseAddress, $0.count, -1, 0) }) == command.count,
          [UInt8(0)].withUnsafeBytes({ cport_send(c, $0.baseAddress, 1, fd, 0) }) == 1 else {
        return .failed("cannot send the descriptor to clamd")
    }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 512)
    while !reply.contains(0), reply.count < 4096 {
        let n = buffer.withUnsafeMutableBytes { read(c, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        reply += buffer[0..<n]
    }
    let text = String(decoding: reply.prefix { $0 != 0 }, as: UTF8.self)
    // "fd[10]: OK", "fd[10]: Eicar-Signature FOUND", "fd[10]: ... ERROR"
    if text.hasSuffix(" FOUND") {
        let name = text.split(separator: " ").dropFirst().dropLast().joined(separator: " ")
        return .found(name)
    }
    if text.hasSuffix(": OK") { return .clean }
    return .failed(text.isEmpty ? "clamd closed the connection" : text)
}

/// Scans under way now, and the most seen at once.
final class InFlight: Sendable {
    private let counts = Mutex((now: 0, most: 0))

    /// One more under way; the new record, when it is one.
    func begin() -> Int? {
        counts.withLock { c in
            c.now += 1
            guard c.now > c.most else { return nil }
            c.most = c.now
            return c.most
        }
    }

    func end() { counts.withLock { $0.now -= 1 } }
}

func main() {
    var positional: [Int] = []
    var clamd = "/run/clamav/clamd.ctl"
    var socket = PortLimits.defaultSocketPath
    var name = "clamd"
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--clamd": clamd = arguments.popFirst() ?? clamd
        case "--socket": socket = arguments.popFirst() ?? socket
        case "--name": name = arguments.popFirst() ?? name
        case "-h", "--help":
            say("usage: fanfilter-clamd [requests-per-thread] [threads] [--clamd PATH] [--socket PATH] [--name NAME]")
            exit(0)
        default:
            guard let n = Int(argument), n > 0 else { fail("'\(argument)' is not a positive number", 2) }
            positional.append(n)
        }
    }
    let requests = positional.count > 0 ? positional[0] : 5
    let threads = min(positional.count > 1 ? positional[1] : 4, 64)
    let client: FilterPortClient
    do { client = try FilterPortClient(path: socket, hello: Hello(role: .decider, name: name)) } catch { fail("\(error)", 1) }
    say("fanfilter-clamd: connected to \(socket) as '\(name)', clamd at \(clamd), \(threads) threads")
    let scans = InFlight()
    let done = DispatchGroup()
    for _ in 0..<threads {
        DispatchQueue.global().async(group: done) { [clamd] in
            do {
                try client.prime(requests)
                while let message = try client.getMessage() {
                    let path = String(decoding: message.event.path, as: UTF8.self)
                    guard message.descriptor >= 0 else {
                        try client.reply(message.messageId, .allow, status: 1, primeAgain: true)
                        say("error \(path): no descriptor came (the policy needs pass_fd = yes)")
                        continue
                    }
                    if let record = scans.begin() { say("clamd requests in flight: \(record)") }
                    let result = scan(message.descriptor, clamd: clamd)
                    scans.end()
                    close(message.descriptor)
                    switch result {
                    case .clean:
                        try client.reply(message.messageId, .allow, primeAgain: true)
                        say("allow \(path)")
                    case .found(let signature):
                        try client.reply(message.messageId, .deny, primeAgain: true)
                        say("deny \(path): \(signature)")
                    case .failed(let why):
                        try client.reply(message.messageId, .allow, status: 1, primeAgain: true)
                        say("error \(path): \(why)")
                    }
                }
            } catch {
                fail("\(error)", 1)
            }
        }
    }
    done.wait()
}

main()
