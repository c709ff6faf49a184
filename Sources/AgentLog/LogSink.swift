/// Where drained entries are written.
public protocol LogSink: Sendable {
    func write(_ entry: LogEntry)
}
