import AgentService
import ArgumentParser
import EventFacts
import Fanotify
import FilterPortClient
import Glibc
import Policy
import PortProtocol
import SystemCall
import SystemPackage
import TrustStore

extension Fanfilter {
    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build, list and query the trust database that trust= rules read.",
            discussion: """
            The database (LMDB, at the policy's trust_db, default /var/lib/fanfilter/trust.mdb) \
            lists every regular file the package manager installed (dpkg's records, with the MD5 \
            dpkg keeps) and every line of the trust files /etc/fanfilter/trust and \
            /etc/fanfilter/trust.d/* (fapolicyd's format: PATH SIZE SHA256). A running agent \
            reads the new database at its next reload (fanfilter reload; the apt hook does both).
            """,
            subcommands: [Update.self, List.self, Check.self, Add.self, Remove.self]
        )
    }
}

/// The trust database path a policy names.
private func databasePath(_ source: PolicySource) throws -> String {
    do { return String(decoding: try source.load(ownership: .ignore).settings.trustDatabase, as: UTF8.self) } catch {
        printError("fanfilter trust: the policy does not load: \(error.diagnostics.first { $0.severity == .error }.map { "\($0)" } ?? "\(error)")")
        throw ExitCode(2)
    }
}

/// Rebuilds the database from every source; prints what it holds.
private func rebuild(_ path: String, _ files: TrustFiles) throws {
    let start = SystemClockReading.now()
    var entries: [TrustEntry] = []
    var bySource: [TrustSource: Int] = [:]
    let dpkg = DpkgSource.entries(infoFolder: files.dpkgInfo)
    entries += dpkg
    bySource[.dpkg] = dpkg.count
    if files.rpm != "none", access(files.rpm, X_OK) == 0 {
        let rpm = try rpmEntries(files.rpm)
        entries += rpm
        bySource[.rpm] = rpm.count
    }
    let trustFiles = TrustFile.readAll(file: files.trustFile, folder: files.trustFolder)
    for problem in trustFiles.problems { printError("fanfilter trust: \(problem) (line skipped)") }
    entries += trustFiles.entries
    bySource[.file] = trustFiles.entries.count
    let verity = VerityUpgrade.apply(entries)
    entries = verity.entries
    do {
        makeFolder(of: path)
        let count = try TrustDatabaseWriter.write(entries, to: path)
        let size = (try? FilePath(path).stat().size) ?? 0
        let took = Double(SystemClockReading.now() - start) / 1e9
        let kib = Int(size) / 1024
        let seconds = (took * 100).rounded() / 100
        let rpm = bySource[.rpm].map { ", rpm \($0)" } ?? ""
        let verified = verity.upgraded > 0 ? ", \(verity.upgraded) with fs-verity" : ""
        print("\(path): \(count) files (dpkg \(bySource[.dpkg] ?? 0)\(rpm), trust files \(bySource[.file] ?? 0)\(verified)), \(kib) KiB, built in \(seconds) s")
    } catch {
        printError("fanfilter trust: \(error)")
        throw ExitCode(1)
    }
}

/// The installed RPM packages' files, from `rpm -qa`.
private func rpmEntries(_ rpm: String) throws -> [TrustEntry] {
    do { return RpmSource.entries(fromQuery: try RpmSource.query(rpm: rpm)) } catch {
        printError("fanfilter trust: \(error)")
        throw ExitCode(1)
    }
}

/// CLOCK_MONOTONIC in nanoseconds, for how long an update took.
private enum SystemClockReading {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

struct TrustFiles: ParsableArguments {
    @Option(help: ArgumentHelp("The trust file add and remove write.", valueName: "file"))
    var trustFile = TrustFile.defaultFile

    @Option(help: ArgumentHelp("The folder of further trust files.", valueName: "folder"))
    var trustFolder = TrustFile.defaultFolder

    @Option(help: ArgumentHelp("dpkg's package records (another root's, or an empty folder for none).", valueName: "folder"))
    var dpkgInfo = DpkgSource.defaultInfoFolder

    @Option(help: ArgumentHelp("The rpm program whose database is read, when it is installed; none: no RPM database.", valueName: "path"))
    var rpm = "/usr/bin/rpm"
}

extension Fanfilter.Trust {
    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the trust database from dpkg's records and the trust files.",
            discussion: "Built beside the old one and renamed over it: a running agent never reads half a database. Run by the apt hook after every dpkg run.")
        @OptionGroup var source: PolicySource
        @OptionGroup var files: TrustFiles

        func run() throws { try rebuild(try databasePath(source), files) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every entry: path, source, size, digest.")
        @OptionGroup var source: PolicySource
        @Option(name: .customLong("source"), help: ArgumentHelp("Only entries from this source.", valueName: "dpkg|rpm|file"))
        var only: String?

        func validate() throws {
            if let only, TrustSource(name: only) == nil { throw ValidationError("--source takes dpkg, rpm or file (got '\(only)')") }
        }

        func run() throws {
            let wanted = only.flatMap(TrustSource.init(name:))
            do {
                let db = try TrustDatabase(path: try databasePath(source))
                db.forEach { e in
                    guard wanted == nil || e.source == wanted else { return }
                    print("\(String(decoding: e.path, as: UTF8.self)) \(e.source) \(e.size.map(String.init) ?? "-") \(e.digest.hex ?? "-")")
                }
            } catch let error as TrustDatabaseError {
                printError("fanfilter trust list: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether a file is trusted under the policy's integrity setting, and why not.",
            discussion: "Exit status 0 trusted, 1 not.")
        @OptionGroup var source: PolicySource
        @Argument(help: ArgumentHelp("The file.", valueName: "path")) var path: String

        func run() throws {
            let policy: Policy
            do { policy = try source.load(ownership: .ignore) } catch {
                printError("fanfilter trust check: the policy does not load: \(error.diagnostics.first { $0.severity == .error }.map { "\($0)" } ?? "\(error)")")
                throw ExitCode(2)
            }
            let db = try? TrustDatabase(path: String(decoding: policy.settings.trustDatabase, as: UTF8.self))
            let report = TrustReport(path: path, database: db, integrity: policy.settings.integrity)
            report.lines.forEach { print($0) }
            if !report.trusted { throw ExitCode(1) }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add files to the trust file (size and SHA-256 read now), then rebuild the database.",
            discussion: "A file the policy denies this command is read by the running agent itself (its own opens are never denied), through its socket.")
        @OptionGroup var source: PolicySource
        @OptionGroup var files: TrustFiles
        @OptionGroup var port: PortOptions
        @Argument(help: ArgumentHelp("The files.", valueName: "path")) var paths: [String]

        /// `PATH SIZE SHA256` of a file the policy denies this process, read by the running agent.
        func measuredByAgent(_ path: String) throws -> String {
            let client = try port.connect(as: .control, name: "fanfilter-trust-add")
            defer { client.disconnect() }
            let answer: ControlResult
            do { answer = try client.sendToFilter(.measure, argument: Array(path.utf8)) } catch {
                printError("fanfilter trust add: \(path): the policy denies reading it, and the agent did not answer: \(error)")
                throw ExitCode(1)
            }
            let fields = answer.body.split(separator: " ", maxSplits: 2)
            guard answer.succeeded, fields.count == 3 else {
                printError("fanfilter trust add: \(path): the policy denies reading it, and the agent could not: \(answer.body)")
                throw ExitCode(1)
            }
            return "\(fields[2]) \(fields[0]) \(fields[1])"
        }

        func run() throws {
            var lines: [String] = []
            for path in paths {
                let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
                let denied: Bool
                do { try OpenedFile(path: absolute).close(); denied = false } catch { denied = error.errno == .notPermitted }
                if denied {
                    // The policy denies this process the file: the agent reads it as its own process.
                    lines.append(try measuredByAgent(absolute))
                    continue
                }
                let facts = ObjectFacts(reading: Array(absolute.utf8), hashMaxSize: .max)
                guard let named = facts.path, let size = facts.size, let digest = facts.sha256 else {
                    printError("fanfilter trust add: \(path): cannot read it as a regular file")
                    throw ExitCode(1)
                }
                lines.append(TrustFile.line(path: named, size: size, sha256Hex: String(decoding: digest, as: UTF8.self)))
            }
            let existing = TrustFileText.read(files.trustFile)
            try TrustFileText.write(files.trustFile, existing + lines)
            lines.forEach { print("added: \($0)") }
            try rebuild(try databasePath(source), files)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove files from the trust file, then rebuild the database.")
        @OptionGroup var source: PolicySource
        @OptionGroup var files: TrustFiles
        @Argument(help: ArgumentHelp("The files, as the trust file names them.", valueName: "path")) var paths: [String]

        func run() throws {
            let existing = TrustFileText.read(files.trustFile)
            let kept = existing.filter { line in
                let parsed = TrustFile(text: Array(line.utf8), file: files.trustFile).entries.first
                return parsed.map { !paths.contains(String(decoding: $0.path, as: UTF8.self)) } ?? true
            }
            guard kept.count < existing.count else {
                printError("fanfilter trust remove: \(files.trustFile) lists none of them")
                throw ExitCode(1)
            }
            try TrustFileText.write(files.trustFile, kept)
            print("removed \(existing.count - kept.count) line\(existing.count - kept.count == 1 ? "" : "s") from \(files.trustFile)")
            try rebuild(try databasePath(source), files)
        }
    }
}

/// The working folder, for a relative path on the command line.
private func currentDirectory() -> String {
    guard let cwd = getcwd(nil, 0) else { return "." }
    defer { free(cwd) }
    return String(cString: cwd)
}

/// Makes the folder `path` is to be written in, mode 0755, if it is missing
/// (a folder that cannot be made fails the write that follows, which says so).
private func makeFolder(of path: String) {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
    _ = try? systemCall("mkdir") { mkdir(String(path[..<slash]), 0o755) }
}

/// A trust file's lines, read and written whole (written beside it, then renamed).
private enum TrustFileText {
    static func read(_ path: String) -> [String] {
        guard let bytes = WholeFile.read(path) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    static func write(_ path: String, _ lines: [String]) throws {
        makeFolder(of: path)
        do { try WholeFile.replace(path, with: Array((lines.joined(separator: "\n") + "\n").utf8), synced: true) } catch {
            printError("fanfilter trust: cannot write \(path): \(error)")
            throw ExitCode(1)
        }
    }
}
