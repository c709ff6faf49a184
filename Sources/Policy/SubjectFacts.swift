/// The facts about the process behind an event. nil: not known (the process
/// exited or hid it, /proc could not be read, or the policy never asks for
/// it); an `allow` rule that tests an unknown fact does not match, a `deny`
/// or `ask` rule's test of it holds (`Rule.unknownSubjectFactMatches`).
public struct SubjectFacts: Sendable, Hashable {
    public var pid: Int32
    public var ppid: Int32?
    /// The effective uid (the one logs show).
    public var uid: UInt32?
    /// The effective gid.
    public var gid: UInt32?
    /// The process's other uids, the real and filesystem ones where they
    /// differ from the effective one: `uid=` matches any of them, as in
    /// fapolicyd 2.0 (a set-user-ID program is its user's too).
    public var otherUIDs: [UInt32] = []
    /// Its other gids: real, filesystem and supplementary groups.
    public var otherGIDs: [UInt32] = []
    /// Login uid (/proc/PID/loginuid); 4294967295 when unset.
    public var auid: UInt32?
    public var sessionid: UInt32?
    public var comm: [UInt8]?
    public var exe: [UInt8]?
    /// The executable's MIME type, as `ftype` reads a file.
    public var exeType: [UInt8]?
    /// The source of the executable's mount.
    public var exeDevice: [UInt8]?
    /// Whether the executable is in the trust database.
    public var exeTrusted: Bool?
    /// How the process was started (nil: the policy did not ask).
    public var pattern: StartPattern?

    public init(pid: Int32, ppid: Int32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, auid: UInt32? = nil,
                sessionid: UInt32? = nil, comm: [UInt8]? = nil, exe: [UInt8]? = nil, exeType: [UInt8]? = nil,
                exeDevice: [UInt8]? = nil, exeTrusted: Bool? = nil, pattern: StartPattern? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.gid = gid
        self.auid = auid
        self.sessionid = sessionid
        self.comm = comm
        self.exe = exe
        self.exeType = exeType
        self.exeDevice = exeDevice
        self.exeTrusted = exeTrusted
        self.pattern = pattern
    }
}
