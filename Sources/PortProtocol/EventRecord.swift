/// What a decider learns of an event (the body after the message header): the
/// access, the process, the file, the `ask` rule that sent it, and the first
/// bytes of the file. Unknown ids are `UInt32.max`; unknown text is empty.
public struct EventRecord: Sendable, Equatable {
    public var access: WireAccess
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public var device: UInt64
    public var inode: UInt64
    public var rule: UInt32
    /// Whether a read-only descriptor of the file came with the message (SCM_RIGHTS).
    public var hasDescriptor: Bool
    /// Whether the agent's reader had more events of the same read waiting
    /// behind this one: the agent, not the decider, is the busy side. A
    /// hint only (see `AgentLoadFollower`); it changes no outcome.
    public var moreEventsWaiting: Bool
    /// The file's size when the event was read.
    public var fileSize: UInt64
    public var path: [UInt8]
    public var comm: [UInt8]
    public var exe: [UInt8]
    /// The first `content_bytes` of the file (fewer for a shorter file).
    public var content: [UInt8]

    /// The flags word's bits.
    static let descriptorFlag: UInt32 = 1 << 0
    static let moreEventsFlag: UInt32 = 1 << 1

    /// access, pid, uid, gid, device, inode, rule, flags, size, 4 lengths.
    public static let fixedSize = 4 + 4 + 4 + 4 + 8 + 8 + 4 + 4 + 8 + 2 + 2 + 2 + 2 + 4

    public init(access: WireAccess, pid: Int32, uid: UInt32 = .max, gid: UInt32 = .max, device: UInt64 = 0,
                inode: UInt64 = 0, rule: UInt32 = 0, hasDescriptor: Bool = false, moreEventsWaiting: Bool = false, fileSize: UInt64 = 0,
                path: [UInt8] = [], comm: [UInt8] = [], exe: [UInt8] = [], content: [UInt8] = []) {
        self.access = access
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.device = device
        self.inode = inode
        self.rule = rule
        self.hasDescriptor = hasDescriptor
        self.moreEventsWaiting = moreEventsWaiting
        self.fileSize = fileSize
        self.path = path
        self.comm = comm
        self.exe = exe
        self.content = content
    }

    func write(to w: inout ByteWriter) {
        w.u32(access.rawValue)
        w.i32(pid)
        w.u32(uid)
        w.u32(gid)
        w.u64(device)
        w.u64(inode)
        w.u32(rule)
        w.u32((hasDescriptor ? Self.descriptorFlag : 0) | (moreEventsWaiting ? Self.moreEventsFlag : 0))
        w.u64(fileSize)
        w.u16(UInt16(clamping: path.count))
        w.u16(UInt16(clamping: comm.count))
        w.u16(UInt16(clamping: exe.count))
        w.u16(0)
        w.u32(UInt32(clamping: content.count))
        w.append(path.prefix(Int(UInt16.max)))
        w.append(comm.prefix(Int(UInt16.max)))
        w.append(exe.prefix(Int(UInt16.max)))
        w.append(content)
    }

    static func read(from r: inout ByteReader) throws(FrameError) -> EventRecord {
        let rawAccess = try r.u32()
        guard let access = WireAccess(rawValue: rawAccess) else { throw FrameError(.malformed, "message: unknown access \(rawAccess)") }
        var e = EventRecord(access: access, pid: try r.i32())
        e.uid = try r.u32()
        e.gid = try r.u32()
        e.device = try r.u64()
        e.inode = try r.u64()
        e.rule = try r.u32()
        // Bits this version does not know are ignored: the agent may add hints.
        let flags = try r.u32()
        e.hasDescriptor = flags & Self.descriptorFlag != 0
        e.moreEventsWaiting = flags & Self.moreEventsFlag != 0
        e.fileSize = try r.u64()
        let pathLength = Int(try r.u16()), commLength = Int(try r.u16()), exeLength = Int(try r.u16())
        _ = try r.u16()
        let contentLength = Int(try r.u32())
        e.path = try r.bytes(pathLength)
        e.comm = try r.bytes(commLength)
        e.exe = try r.bytes(exeLength)
        e.content = try r.bytes(contentLength)
        return e
    }
}
