/// One entry on its way to the journal or stderr.
public struct LogEntry: Sendable {
    /// syslog priority: 0 (emerg) to 7 (debug).
    public var priority: Int32
    public var message: String
    /// Journal fields beyond MESSAGE and PRIORITY, as raw bytes.
    public var fields: [(name: String, value: [UInt8])]
    /// The logger's label (SYSLOG_IDENTIFIER on stderr lines).
    public var label: String

    public init(priority: Int32, message: String, fields: [(name: String, value: [UInt8])], label: String) {
        self.priority = priority
        self.message = message
        self.fields = fields
        self.label = label
    }

    public func field(_ name: String) -> [UInt8]? { fields.first { $0.name == name }?.value }

    /// What makes entries similar for coalescing; nil for entries never coalesced.
    var coalescingKey: [UInt8]? {
        guard field(Field.decision) != nil else { return nil }
        var key: [UInt8] = []
        for name in Field.coalescing {
            key += field(name) ?? []
            key.append(0)
        }
        return key
    }
}
