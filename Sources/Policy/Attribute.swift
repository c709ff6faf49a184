/// The attributes a rule can test, subject ones before the colon, object ones
/// after. The spelling in a rule is `name`; fapolicyd's other spellings
/// (`dir`, `ftype`, `device` before the colon, `exe_type`, `exe_device`,
/// `filehash`) are
/// read as the same attribute (`named(_:subject:)`).
public enum Attribute: Sendable, Equatable, Hashable, CaseIterable {
    case uid, gid, auid, sessionid, pid, ppid, comm, exe, exeDir
    /// The file type of the process's executable (fapolicyd's subject `ftype`).
    case exeType
    /// The device of the process's executable (fapolicyd's subject `device`).
    case exeDevice
    /// Whether the process's executable is in the trust database (subject `trust`).
    case exeTrust
    /// How the process was started: normal, ld_so, static, ld_preload.
    case pattern
    case path, dir, device, fstype, sha256hash, size
    /// fapolicyd 2.0's `filehash` with a SHA-512 value (128 hex digits).
    case sha512hash
    /// The file's MIME type (`ftype`), fapolicyd's ELF classes first.
    case ftype
    /// Whether the file is in the trust database and passes the integrity check (`trust`).
    case trust

    /// Whether the attribute is a fact of the file's contents (its type, a
    /// digest, trust with an integrity check), which a writer can change
    /// without the file's name or metadata telling: such a fact is never
    /// kept in the kernel's cache, and not known while the file is open for writing.
    public var readsContents: Bool {
        switch self {
        case .ftype, .sha256hash, .sha512hash, .trust: true
        default: false
        }
    }

    /// How a rule writes it, on its side of the colon.
    public var name: String {
        switch self {
        case .uid: "uid"
        case .gid: "gid"
        case .auid: "auid"
        case .sessionid: "sessionid"
        case .pid: "pid"
        case .ppid: "ppid"
        case .comm: "comm"
        case .exe: "exe"
        case .exeDir: "exe_dir"
        case .exeType: "ftype"
        case .exeDevice: "device"
        case .exeTrust: "trust"
        case .pattern: "pattern"
        case .path: "path"
        case .dir: "dir"
        case .device: "device"
        case .fstype: "fstype"
        case .sha256hash: "sha256hash"
        case .sha512hash: "filehash"
        case .size: "size"
        case .ftype: "ftype"
        case .trust: "trust"
        }
    }

    /// The attribute a name means on one side of a rule, fapolicyd's spellings included.
    public static func named(_ name: String, subject: Bool) -> Attribute? {
        // fapolicyd 2.0's name for it; a 128-digit value makes it `sha512hash` (the parser).
        if !subject, name == "filehash" { return .sha256hash }
        if subject {
            switch name {
            case "dir": return .exeDir
            case "exe_type": return .exeType
            case "exe_device": return .exeDevice
            default: break
            }
        }
        return allCases.first { $0.name == name && $0.isSubject == subject }
    }

    public var isSubject: Bool {
        switch self {
        case .uid, .gid, .auid, .sessionid, .pid, .ppid, .comm, .exe, .exeDir, .exeType, .exeDevice, .exeTrust, .pattern: true
        default: false
        }
    }

    enum Kind { case id, number, bytes, directory, hash, mime, flag, startPattern }

    var kind: Kind {
        switch self {
        case .uid, .gid, .auid: .id
        case .sessionid, .pid, .ppid, .size: .number
        case .comm, .exe, .path, .device, .fstype, .exeDevice: .bytes
        case .exeDir, .dir: .directory
        case .sha256hash, .sha512hash: .hash
        case .ftype, .exeType: .mime
        case .trust, .exeTrust: .flag
        case .pattern: .startPattern
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
        case .exeType: [.exe, .exeType]
        case .exeDevice: [.exe, .exeDevice]
        case .exeTrust: [.exe, .exeTrust]
        case .pattern: .pattern
        case .device: .device
        case .fstype: .fstype
        case .size: .size
        case .sha256hash: .sha256
        case .sha512hash: .sha512
        case .ftype: .ftype
        case .trust: .trust
        case .path, .dir: []
        }
    }

    /// The trust fact `untrusted` reads for a test of this attribute (exe: the
    /// executable's, path and dir: the file's), nil where it means nothing.
    var untrustedFact: Attribute? {
        switch self {
        case .exe, .exeDir: .exeTrust
        case .path, .dir: .trust
        default: nil
        }
    }
}
