import Dispatch
import Foundation
import Glibc
import Logging
import Policy
import Synchronization
import XCTest

/// A logger that keeps every entry (message and metadata), for tests that read what the agent logged.
public final class LogCapture: Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: Logger.Metadata
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    public var logger: Logger {
        Logger(label: "fanfilter-test") { _ in Handler(capture: self) }
    }

    public var all: [Entry] { entries.withLock { $0 } }

    /// Waits (bounded) until an entry satisfies `match`, and returns it.
    public func wait(for match: (Entry) -> Bool, timeout: Duration = .seconds(5)) -> Entry? {
        var found: Entry?
        _ = eventually(timeout: timeout) {
            found = all.first(where: match)
            return found != nil
        }
        return found
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let entry = Entry(level: event.level, message: event.message.description, metadata: event.metadata ?? [:])
            capture.entries.withLock { $0.append(entry) }
        }
    }
}
