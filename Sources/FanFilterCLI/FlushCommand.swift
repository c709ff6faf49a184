import ArgumentParser

extension Fanfilter {
    struct Flush: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop every decision a running agent has cached (the kernel's ignore marks and its own).")
        @OptionGroup var port: PortOptions

        func run() throws { try port.request(.flushCaches) }
    }
}
