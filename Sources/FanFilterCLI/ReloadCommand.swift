import ArgumentParser

extension Fanfilter {
    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a running agent read its policy file again, and wait for the outcome.",
            discussion: """
            Like SIGHUP, but it waits: prints "policy loaded" and exits 0, or prints the \
            errors of the rejected policy with FILE:LINE:COL and exits 1 (the running \
            policy stays).
            """)
        @OptionGroup var port: PortOptions

        func run() throws { try port.request(.reload) }
    }
}
