/// A frame the agent sends a client. `decode` takes any bytes and returns a
/// frame or throws a `FrameError`: a client library needs no other parser.
public enum AgentFrame: Sendable, Equatable {
    /// The hello was taken: the connection's id on the port, and the limits that hold on it.
    case welcome(version: UInt32, connectionId: UInt64, maxFrame: UInt32, maxPrimed: UInt32)
    /// The connection is refused (the agent closes it next).
    case refused(PortErrorCode, reason: String)
    /// FILTER_MESSAGE_HEADER (reply length, message id), then the event.
    case message(replyLength: UInt32, messageId: UInt64, event: EventRecord)
    /// A frame was not taken: `messageId` is the reply's (else 0). Fatal codes close the connection.
    case error(PortErrorCode, messageId: UInt64, reason: String)
    /// The answer to a control request: status 0 and the result, or an error code and why.
    case controlReply(requestId: UInt32, status: UInt32, body: [UInt8])
    /// An observer's copy of one decision.
    case decision(DecisionRecord)

    public func encode() -> [UInt8] {
        switch self {
        case .welcome(let version, let id, let maxFrame, let maxPrimed):
            var w = ByteWriter(type: .welcome)
            w.u32(version)
            w.u32(0)
            w.u64(id)
            w.u32(maxFrame)
            w.u32(maxPrimed)
            return w.bytes
        case .refused(let code, let reason):
            var w = ByteWriter(type: .refused)
            w.u32(code.rawValue)
            w.append(reason.utf8)
            return w.bytes
        case .message(let replyLength, let id, let event):
            var w = ByteWriter(type: .message, capacity: 16 + EventRecord.fixedSize + event.path.count + event.exe.count + event.content.count + 16)
            w.u32(replyLength)
            w.u64(id)
            event.write(to: &w)
            return w.bytes
        case .error(let code, let id, let reason):
            var w = ByteWriter(type: .error)
            w.u32(code.rawValue)
            w.u64(id)
            w.append(reason.utf8)
            return w.bytes
        case .controlReply(let requestId, let status, let body):
            var w = ByteWriter(type: .controlReply, capacity: 12 + body.count)
            w.u32(requestId)
            w.u32(status)
            w.append(body)
            return w.bytes
        case .decision(let d):
            var w = ByteWriter(type: .decision, capacity: 48 + d.path.count)
            w.u64(d.sequence)
            w.u32(d.lost)
            w.u32(d.access.rawValue)
            w.i32(d.pid)
            w.u32(d.verdict.rawValue)
            w.u32(d.notEnforced ? 1 : 0)
            w.u32(d.source.rawValue)
            w.u32(d.rule)
            w.u16(UInt16(clamping: d.path.count))
            w.u16(UInt16(clamping: d.client.count))
            w.append(d.path.prefix(Int(UInt16.max)))
            w.append(d.client.prefix(Int(UInt16.max)))
            return w.bytes
        }
    }

    public static func decode(_ bytes: [UInt8]) throws(FrameError) -> AgentFrame {
        guard bytes.count <= PortLimits.maxAgentFrame else {
            throw FrameError(.oversized, "a frame of \(bytes.count) bytes (at most \(PortLimits.maxAgentFrame))")
        }
        var r = ByteReader(bytes, what: "frame")
        let raw = try r.u32()
        guard raw >= 0x100, let type = FrameType(rawValue: raw) else { throw FrameError(.unknownType, "unknown frame type \(raw)") }
        r = ByteReader(bytes, at: 4, what: type.name)
        func code() throws(FrameError) -> PortErrorCode {
            let c = try r.u32()
            guard let code = PortErrorCode(rawValue: c) else { throw FrameError(.malformed, "\(type): unknown error code \(c)") }
            return code
        }
        func text() throws(FrameError) -> String { String(decoding: try r.bytes(r.remaining), as: UTF8.self) }
        switch type {
        case .welcome:
            let version = try r.u32()
            _ = try r.u32()
            let id = try r.u64()
            let maxFrame = try r.u32(), maxPrimed = try r.u32()
            try r.end()
            return .welcome(version: version, connectionId: id, maxFrame: maxFrame, maxPrimed: maxPrimed)
        case .refused:
            let c = try code()
            return .refused(c, reason: try text())
        case .message:
            let replyLength = try r.u32()
            let id = try r.u64()
            let event = try EventRecord.read(from: &r)
            try r.end()
            return .message(replyLength: replyLength, messageId: id, event: event)
        case .error:
            let c = try code()
            let id = try r.u64()
            return .error(c, messageId: id, reason: try text())
        case .controlReply:
            let requestId = try r.u32()
            let status = try r.u32()
            return .controlReply(requestId: requestId, status: status, body: try r.bytes(r.remaining))
        case .decision:
            let sequence = try r.u64()
            let lost = try r.u32()
            let rawAccess = try r.u32()
            guard let access = WireAccess(rawValue: rawAccess) else { throw FrameError(.malformed, "decision: unknown access \(rawAccess)") }
            let pid = try r.i32()
            let rawVerdict = try r.u32()
            guard let verdict = WireVerdict(rawValue: rawVerdict) else { throw FrameError(.malformed, "decision: unknown verdict \(rawVerdict)") }
            let notEnforced = try r.u32() & 1 != 0
            let rawSource = try r.u32()
            guard let source = DecisionRecord.Source(rawValue: rawSource) else { throw FrameError(.malformed, "decision: unknown source \(rawSource)") }
            let rule = try r.u32()
            let pathLength = Int(try r.u16()), clientLength = Int(try r.u16())
            let path = try r.bytes(pathLength), client = try r.bytes(clientLength)
            try r.end()
            return .decision(DecisionRecord(sequence: sequence, lost: lost, access: access, pid: pid, verdict: verdict,
                                            notEnforced: notEnforced, source: source, rule: rule, path: path, client: client))
        default:
            throw FrameError(.unknownType, "unknown frame type \(raw)")
        }
    }
}
