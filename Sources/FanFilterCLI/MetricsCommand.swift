import ArgumentParser

extension Fanfilter {
    struct Metrics: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a running agent's metrics once, in Prometheus' text format.",
            discussion: """
            The same numbers metrics_file holds (every counter, per-rule hits, the gauges and \
            info metrics), taken now, through the agent's socket: for a local exporter to \
            scrape, or to look at by hand. The agent needs no metrics_file for it.
            """)
        @OptionGroup var port: PortOptions

        func run() throws { try port.request(.metrics) }
    }
}
