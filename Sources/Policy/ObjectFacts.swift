/// The facts about the file behind an event; nil as for `SubjectFacts`.
public struct ObjectFacts: Sendable, Hashable {
    public var path: [UInt8]?
    /// The source of the file's mount (a block device such as /dev/vda1, or tmpfs).
    public var device: [UInt8]?
    public var fstype: [UInt8]?
    public var size: UInt64?
    /// Lowercase hex SHA-256 of the contents.
    public var sha256: [UInt8]?
    /// Lowercase hex SHA-512, asked only by a 128-digit `filehash`.
    public var sha512: [UInt8]?
    /// The MIME type (`application/x-executable`, `text/x-python`, …).
    public var ftype: [UInt8]?
    /// Whether the file is in the trust database and passes the integrity check.
    public var trusted: Bool?
    /// The file is open for writing: its contents may change while they are
    /// read and after, so no fact of them is known (`Attribute.readsContents`).
    public var contentsChanging = false

    public init(path: [UInt8]? = nil, device: [UInt8]? = nil, fstype: [UInt8]? = nil,
                size: UInt64? = nil, sha256: [UInt8]? = nil, ftype: [UInt8]? = nil, trusted: Bool? = nil) {
        self.path = path
        self.device = device
        self.fstype = fstype
        self.size = size
        self.sha256 = sha256
        self.ftype = ftype
        self.trusted = trusted
    }
}
