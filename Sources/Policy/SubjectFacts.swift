/// The facts about the process behind an event. nil: not known (the process
/// exited, /proc could not be read, or the policy never asks for it); a rule
/// that tests an unknown fact does not match.
public struct SubjectFacts: Sendable, Hashable {
    public var pid: Int32
    public var ppid: Int32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// Login uid (/proc/PID/loginuid); 4294967295 when unset.
    public var auid: UInt32?
    public var sessionid: UInt32?
    public var comm: [UInt8]?
    public var exe: [UInt8]?

    public init(pid: Int32, ppid: Int32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, auid: UInt32? = nil,
                sessionid: UInt32? = nil, comm: [UInt8]? = nil, exe: [UInt8]? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.gid = gid
        self.auid = auid
        self.sessionid = sessionid
        self.comm = comm
        self.exe = exe
    }
}
