// scanner: a decider for fanfilter's `ask` rules, after the WDK's scanuser.
//
//   scanner [requests-per-thread] [threads] [--marker TEXT] [--socket PATH] [--name NAME] [--quiet]
//           [--realtime | --fixed-class]
//
// Connects to the agent's port, primes requests-per-thread gets on each of
// `threads` threads (defaults 5 and 2, at most 64 threads), and answers each
// message: deny when the file's content holds the marker (default "foul",
// as in the sample), allow otherwise. It scans the first bytes the message
// carries, and the whole file when the agent passes its descriptor
// (pass_fd = yes). Each answer is printed (not with --quiet); it runs until
// the agent goes away. With --realtime its threads run SCHED_FIFO at
// priority 1 (`FilterPortClient.runThisThreadInRealTime`): on a busy
// machine they are not left waiting for a CPU-bound neighbour's time slice.
// Otherwise each thread follows the agent's load (`AgentLoadFollower`): it
// runs SCHED_BATCH while most of its messages say the agent's reader has
// more events waiting, so that it does not preempt the reader, and normal
// again when they stop; --fixed-class keeps the class it starts in.
import Dispatch
import FilterPortClient
import Glibc
import PortProtocol

/// A line to standard output, unbuffered (the tests read it as it comes).
func say(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// A line to standard error, then exit.
func fail(_ text: String, _ status: Int32) -> Never {
    var line = "scanner: " + text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(status)
}

/// Whether `haystack` holds `marker` anywhere.
func contains(_ haystack: ArraySlice<UInt8>, _ marker: [UInt8]) -> Bool {
    guard haystack.count >= marker.count else { return false }
    var i = haystack.startIndex
    while i <= haystack.endIndex - marker.count {
        if haystack[i] == marker[0], haystack[i..<i + marker.count].elementsEqual(marker) { return true }
        i += 1
    }
    return false
}

/// The whole file through the descriptor the agent passed, a block at a time
/// (each block overlaps the last by the marker's length).
func fileContains(_ fd: Int32, _ marker: [UInt8]) -> Bool {
    var block = [UInt8](repeating: 0, count: 1 << 16)
    var offset: off_t = 0
    var tail: [UInt8] = []
    while true {
        let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
        if n <= 0 { return false }
        let window = tail + block[0..<n]
        if contains(window[...], marker) { return true }
        tail = Array(window.suffix(marker.count - 1))
        offset += off_t(n)
    }
}

func main() {
    var positional: [Int] = []
    var marker = Array("foul".utf8)
    var socket = PortLimits.defaultSocketPath
    var name = "scanner"
    var quiet = false
    var realtime = false
    var follow = true
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--marker": marker = Array((arguments.popFirst() ?? "").utf8)
        case "--socket": socket = arguments.popFirst() ?? socket
        case "--name": name = arguments.popFirst() ?? name
        case "--quiet": quiet = true
        case "--realtime": realtime = true
        case "--fixed-class": follow = false
        case "-h", "--help":
            say("usage: scanner [requests-per-thread] [threads] [--marker TEXT] [--socket PATH] [--name NAME] [--quiet] [--realtime | --fixed-class]")
            exit(0)
        default:
            guard let n = Int(argument), n > 0 else {
                fail("'\(argument)' is not a positive number (usage: scanner [requests-per-thread] [threads])", 2)
            }
            positional.append(n)
        }
    }
    let requests = positional.count > 0 ? positional[0] : 5
    let threads = min(positional.count > 1 ? positional[1] : 2, 64)
    guard !marker.isEmpty else {
        fail("the marker must not be empty", 2)
    }

    let client: FilterPortClient
    do {
        client = try FilterPortClient(path: socket, hello: Hello(role: .decider, name: name))
    } catch {
        fail("\(error)", 1)
    }
    say("scanner: connected to \(socket) as '\(name)', \(threads) threads, \(requests) requests each\(realtime ? ", real-time" : follow ? ", following the agent's load" : "")")

    let done = DispatchGroup()
    for _ in 0..<threads {
        DispatchQueue.global().async(group: done) { [marker, quiet, realtime, follow] in
            do {
                if realtime { try FilterPortClient.runThisThreadInRealTime() }
                // Left alone when real-time (it only moves a thread of the normal class).
                var load = AgentLoadFollower()
                try client.prime(requests)
                while let message = try client.getMessage() {
                    if follow { load.note(message) }
                    let event = message.event
                    var foul = contains(event.content[...], marker)
                    if message.descriptor >= 0 {
                        if !foul { foul = fileContains(message.descriptor, marker) }
                        close(message.descriptor)
                    }
                    // The reply re-arms the get it used, in the same write.
                    try client.reply(message.messageId, foul ? .deny : .allow, primeAgain: true)
                    if !quiet { say("\(foul ? "deny" : "allow") \(String(decoding: event.path, as: UTF8.self)) pid=\(event.pid)") }
                }
            } catch {
                fail("\(error)", 1)
            }
        }
    }
    done.wait()
}

main()
