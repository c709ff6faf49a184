/// A frame a client sends the agent. `decode` takes any bytes: it returns a
/// frame or throws a `FrameError` that names what was wrong, never more.
public enum ClientFrame: Sendable, Equatable {
    case hello(Hello)
    /// Posts `count` gets (overlapped FilterGetMessage calls).
    case prime(count: UInt32)
    /// FilterReplyMessage: the reply header (status, message id) and the verdict.
    /// A non-zero status means the client could not decide (the event gets `on_timeout`).
    /// With `primeAgain` (frame type 5), one more get is primed after it.
    case reply(status: Int32, messageId: UInt64, payload: [UInt8], primeAgain: Bool = false)
    /// FilterSendMessage: a request the agent answers with a control reply of the same id.
    case control(requestId: UInt32, command: UInt32, argument: [UInt8])

    public func encode() -> [UInt8] {
        switch self {
        case .hello(let h):
            var w = ByteWriter(type: .hello)
            w.u32(h.version)
            w.u32(h.role.rawValue)
            w.u32(h.accesses.rawValue)
            w.u32(h.deniedOnly ? 1 : 0)
            let name = Array(h.name.utf8)
            w.u16(UInt16(clamping: name.count))
            w.u16(UInt16(clamping: h.rules.count))
            for rule in h.rules { w.u32(rule) }
            w.append(name)
            return w.bytes
        case .prime(let count):
            var w = ByteWriter(type: .prime)
            w.u32(count)
            return w.bytes
        case .reply(let status, let id, let payload, let primeAgain):
            var w = ByteWriter(type: primeAgain ? .replyAndPrime : .reply)
            w.i32(status)
            w.u64(id)
            w.append(payload)
            return w.bytes
        case .control(let requestId, let command, let argument):
            var w = ByteWriter(type: .control)
            w.u32(requestId)
            w.u32(command)
            w.append(argument)
            return w.bytes
        }
    }

    /// A reply that allows or denies (and primes one more get, with `primeAgain`).
    public static func reply(messageId: UInt64, _ verdict: WireVerdict, status: Int32 = 0, primeAgain: Bool = false) -> ClientFrame {
        var w = ByteWriter(type: .reply)
        w.u32(verdict.rawValue)
        return .reply(status: status, messageId: messageId, payload: Array(w.bytes.dropFirst(4)), primeAgain: primeAgain)
    }

    public static func decode(_ bytes: [UInt8]) throws(FrameError) -> ClientFrame {
        guard bytes.count <= PortLimits.maxClientFrame else {
            throw FrameError(.oversized, "a frame of \(bytes.count) bytes (at most \(PortLimits.maxClientFrame))")
        }
        var r = ByteReader(bytes, what: "frame")
        let raw = try r.u32()
        guard let type = FrameType(rawValue: raw), raw < 0x100 else {
            throw FrameError(.unknownType, "unknown frame type \(raw)")
        }
        switch type {
        case .hello:
            r = ByteReader(bytes, at: 4, what: "hello")
            let version = try r.u32()
            let rawRole = try r.u32()
            guard let role = Role(rawValue: rawRole) else { throw FrameError(.malformed, "hello: unknown role \(rawRole)") }
            let accesses = AccessMask(rawValue: try r.u32())
            guard accesses.isSubset(of: .all), role != .decider || !accesses.isEmpty else {
                throw FrameError(.malformed, "hello: accesses \(accesses.rawValue) (1 open, 2 execute, 3 both)")
            }
            let flags = try r.u32()
            let nameLength = Int(try r.u16()), ruleCount = Int(try r.u16())
            guard nameLength <= PortLimits.maxNameLength else {
                throw FrameError(.malformed, "hello: a name of \(nameLength) bytes (at most \(PortLimits.maxNameLength))")
            }
            guard ruleCount <= PortLimits.maxRules else {
                throw FrameError(.malformed, "hello: \(ruleCount) rules (at most \(PortLimits.maxRules))")
            }
            var rules: [UInt32] = []
            for _ in 0..<ruleCount { rules.append(try r.u32()) }
            let name = try r.bytes(nameLength)
            try r.end()
            guard let text = String(validating: name, as: UTF8.self), !text.isEmpty,
                  !name.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
                throw FrameError(.malformed, "hello: the name must be 1 to \(PortLimits.maxNameLength) bytes of UTF-8 without control characters")
            }
            return .hello(Hello(version: version, role: role, accesses: accesses, deniedOnly: flags & 1 != 0,
                                rules: rules, name: text))
        case .prime:
            r = ByteReader(bytes, at: 4, what: "prime")
            let count = try r.u32()
            try r.end()
            guard count >= 1, count <= UInt32(PortLimits.maxPrimed) else {
                throw FrameError(.malformed, "prime: a count of \(count) (1 to \(PortLimits.maxPrimed))")
            }
            return .prime(count: count)
        case .reply, .replyAndPrime:
            r = ByteReader(bytes, at: 4, what: "reply")
            let status = try r.i32()
            let id = try r.u64()
            return .reply(status: status, messageId: id, payload: try r.bytes(r.remaining), primeAgain: type == .replyAndPrime)
        case .control:
            r = ByteReader(bytes, at: 4, what: "control")
            let requestId = try r.u32()
            let command = try r.u32()
            return .control(requestId: requestId, command: command, argument: try r.bytes(r.remaining))
        default:
            throw FrameError(.unknownType, "unknown frame type \(raw)")
        }
    }

    /// The verdict in a reply's payload, if it holds exactly one.
    public static func verdict(of payload: [UInt8]) -> WireVerdict? {
        guard payload.count == PortLimits.replyPayloadSize else { return nil }
        var r = ByteReader(payload, what: "reply")
        return (try? r.u32()).flatMap(WireVerdict.init(rawValue:))
    }
}
