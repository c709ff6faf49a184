// fanfilter-test-opener: the child process the kernel tests open and execute
// files with (the agent allows its own process, so the test process cannot be
// the opener). Prints one line per result on stdout.
//
//   open PATH...                 open(2)+close(2) each PATH once: "ok" or the errno name
//   loop COUNT PATH...           COUNT opens round-robin over PATHs: "ok=N eperm=N other=N"
//   exec PATH [ARG...]           execv(2) PATH; on failure prints the errno name, exits 126
//   pause                        print "ready", then wait until killed (a live process
//                                whose facts a test reads)
//   hidden-open PATH...          the main thread exits (pthread_exit) and a second thread,
//                                once /proc/PID/exe no longer reads, opens each PATH as
//                                `open` does: a process that hides its executable
//   environ-from FILE PATH...    maps FILE (read-only, private) over the whole pages of its
//                                own environment (give it a large one), so that reading
//                                /proc/PID/environ stops short there, then opens each
//                                PATH as `open` does: a process whose facts a server stalls
//   chdir DIR COMMAND...         chdir(2) into DIR one component at a time (so DIR may be
//                                longer than PATH_MAX), then COMMAND with paths relative to it
import Glibc

func errnoName(_ e: Int32) -> String {
    switch e {
    case EPERM: "EPERM"
    case EACCES: "EACCES"
    case ENOENT: "ENOENT"
    case ENAMETOOLONG: "ENAMETOOLONG"
    default: "errno\(e)"
    }
}

func say(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// Arguments as raw bytes (paths need not be UTF-8).
var args: [[CChar]] = (0..<Int(CommandLine.argc)).map { i in
    let p = CommandLine.unsafeArgv[i]!
    return Array(UnsafeBufferPointer(start: p, count: strlen(p) + 1))
}

/// An argument as text (its NUL dropped).
func text(_ arg: [CChar]) -> String { String(decoding: arg.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self) }

func tryOpen(_ path: [CChar]) -> Int32 {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return errno }
    close(fd)
    return 0
}

if args.count >= 4, text(args[1]) == "chdir" {
    let dir = args[2].dropLast()  // without the NUL
    if dir.first == CChar(UInt8(ascii: "/")) { _ = chdir("/") }
    for component in dir.split(separator: CChar(UInt8(ascii: "/"))) where chdir(Array(component) + [0]) != 0 {
        say("chdir: " + errnoName(errno))
        exit(2)
    }
    args = [args[0]] + args[3...]
}

if args.count == 2, text(args[1]) == "pause" {
    say("ready")
    while true { pause() }
}

/// `hidden-open`: the second thread's work, once the main thread has gone.
nonisolated(unsafe) var hiddenPaths: [[CChar]] = []

nonisolated func openWithTheMainThreadGone(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    var link = [CChar](repeating: 0, count: 4096)
    // Bounded: 2 s for the kernel to let the main thread go.
    for _ in 0..<2000 where readlink("/proc/\(getpid())/exe", &link, link.count) >= 0 { usleep(1000) }
    if readlink("/proc/\(getpid())/exe", &link, link.count) >= 0 {
        say("the main thread's exe still reads")
        exit(3)
    }
    for path in hiddenPaths {
        let e = tryOpen(path)
        say(e == 0 ? "ok" : errnoName(e))
    }
    exit(0)
}

if args.count >= 3, text(args[1]) == "hidden-open" {
    hiddenPaths = Array(args[2...])
    var thread = pthread_t()
    guard pthread_create(&thread, nil, openWithTheMainThreadGone, nil) == 0 else { exit(2) }
    pthread_exit(nil)
}

if args.count >= 4, text(args[1]) == "environ-from" {
    // Fields 50 and 51 of /proc/self/stat: where the environment starts and ends.
    var stat = [UInt8](repeating: 0, count: 4096)
    let statFD = open("/proc/self/stat", O_RDONLY)
    let n = read(statFD, &stat, stat.count)
    close(statFD)
    let text = String(decoding: stat.prefix(max(0, n)), as: UTF8.self)
    let fields = text[text.index(after: text.lastIndex(of: ")")!)...].split(separator: " ")
    guard fields.count > 48, let start = UInt(fields[47]), let end = UInt(fields[48]) else { exit(2) }
    let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
    // The whole pages of the environment alone: a page it shares holds the live stack too.
    let first = (start + page - 1) & ~(page - 1)
    let last = end & ~(page - 1)
    guard last > first else {
        say("the environment fills no whole page")
        exit(2)
    }
    let length = Int(last - first)
    let fd = open(args[2], O_RDONLY)
    guard fd >= 0, mmap(UnsafeMutableRawPointer(bitPattern: first), length, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) != MAP_FAILED else {
        say("mmap: " + errnoName(errno))
        exit(2)
    }
    for path in args[3...] {
        let e = tryOpen(path)
        say(e == 0 ? "ok" : errnoName(e))
    }
    exit(0)
}

guard args.count >= 3 else {
    say("usage: fanfilter-test-opener open PATH... | loop COUNT PATH... | exec PATH [ARG...] | pause")
    exit(2)
}
switch text(args[1]) {
case "open":
    for path in args[2...] {
        let e = tryOpen(path)
        say(e == 0 ? "ok" : errnoName(e))
    }
case "loop":
    guard let count = Int(text(args[2])), args.count > 3 else { exit(2) }
    let paths = Array(args[3...])
    var ok = 0, eperm = 0, other = 0
    for i in 0..<count {
        switch tryOpen(paths[i % paths.count]) {
        case 0: ok += 1
        case EPERM: eperm += 1
        default: other += 1
        }
    }
    say("ok=\(ok) eperm=\(eperm) other=\(other)")
case "exec":
    var argv: [UnsafeMutablePointer<CChar>?] = args[2...].map { strdup($0) }
    argv.append(nil)
    execv(args[2], argv)
    say(errnoName(errno))
    exit(126)
default:
    exit(2)
}
