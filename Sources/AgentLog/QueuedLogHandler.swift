import Logging

/// swift-log's handler for fanfilter: every log call becomes a `LogEntry` on
/// the bounded `LogQueue`, so the caller never waits for the journal. Metadata
/// become journal fields (keys as given; `RawBytes` values keep their bytes).
public struct QueuedLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let queue: LogQueue

    public init(label: String, queue: LogQueue) {
        self.label = label
        self.queue = queue
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(name: String, value: [UInt8])] = []
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields.append((key, bytes(of: value)))
        }
        queue.enqueue(LogEntry(priority: Self.priority(event.level), message: event.message.description, fields: fields, label: label))
    }

    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private func bytes(of value: Logger.Metadata.Value) -> [UInt8] {
        if case .stringConvertible(let v) = value, let raw = v as? RawBytes { return raw.bytes }
        return Array(value.description.utf8)
    }
}
