/// The attributes a rule can test, subject ones before the colon, object ones after.
public enum Attribute: String, Sendable, Equatable, Hashable, CaseIterable {
    case uid, gid, auid, sessionid, pid, ppid, comm, exe
    case exeDir = "exe_dir"
    case path, dir, device, fstype, sha256hash, size

    public var isSubject: Bool {
        switch self {
        case .uid, .gid, .auid, .sessionid, .pid, .ppid, .comm, .exe, .exeDir: true
        default: false
        }
    }

    enum Kind { case id, number, bytes, directory, hash }

    var kind: Kind {
        switch self {
        case .uid, .gid, .auid: .id
        case .sessionid, .pid, .ppid, .size: .number
        case .comm, .exe, .path, .device, .fstype: .bytes
        case .exeDir, .dir: .directory
        case .sha256hash: .hash
        }
    }

    /// The fact a test of this attribute reads ([] for the path, always known).
    var fact: Facts {
        switch self {
        case .uid: .uid
        case .gid: .gid
        case .auid: .auid
        case .sessionid: .sessionid
        case .pid: .pid
        case .ppid: .ppid
        case .comm: .comm
        case .exe, .exeDir: .exe
        case .device: .device
        case .fstype: .fstype
        case .size: .size
        case .sha256hash: .sha256
        case .path, .dir: []
        }
    }
}
