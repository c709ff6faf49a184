import CLMDB
import Glibc
import SystemPackage

/// A trust database open for reading: an LMDB file mapped read-only and
/// never written while open (`TrustDatabaseWriter` builds a new file and
/// renames it over the old one), so lookups take no lock and may run on any
/// thread at once. The file's identity at open is kept, so the agent can
/// tell when a new database was put in its place.
public final class TrustDatabase: @unchecked Sendable {
    private let env: OpaquePointer
    private let dbi: MDB_dbi
    public let path: String
    /// Device and inode of the file opened.
    public let identity: (device: UInt64, inode: UInt64)
    /// How many entries it holds.
    public let count: Int

    public init(path: String) throws(TrustDatabaseError) {
        self.path = path
        let st: Stat
        do { st = try FilePath(path).stat() } catch { throw TrustDatabaseError(path: path, what: "cannot open it", errno: error) }
        guard st.type == .regular else { throw TrustDatabaseError(path: path, what: "it is not a regular file", code: 0) }
        identity = (UInt64(st.deviceID.rawValue), UInt64(st.inode.rawValue))
        var env: OpaquePointer?
        var rc = mdb_env_create(&env)
        guard rc == 0, let env else { throw TrustDatabaseError(path: path, what: "cannot set up LMDB", code: rc) }
        rc = mdb_env_set_mapsize(env, max(Int(st.size), 1 << 20))
        rc = mdb_env_open(env, path, UInt32(MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS), 0o644)
        guard rc == 0 else {
            mdb_env_close(env)
            throw TrustDatabaseError(path: path, what: "cannot open it as an LMDB database", code: rc)
        }
        var txn: OpaquePointer?
        var dbi: MDB_dbi = 0
        rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
        if rc == 0 { rc = mdb_dbi_open(txn, nil, 0, &dbi) }
        var stat = MDB_stat()
        if rc == 0 { rc = mdb_stat(txn, dbi, &stat) }
        mdb_txn_abort(txn)
        guard rc == 0 else {
            mdb_env_close(env)
            throw TrustDatabaseError(path: path, what: "cannot read it", code: rc)
        }
        self.env = env
        self.dbi = dbi
        count = Int(stat.ms_entries)
    }

    deinit { mdb_env_close(env) }

    /// The entry for `path`, or nil when the database does not list it.
    public func lookUp(_ path: [UInt8]) -> TrustEntry? {
        guard !path.isEmpty, path.count < 4096 else { return nil }
        var txn: OpaquePointer?
        guard mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn) == 0 else { return nil }
        defer { mdb_txn_abort(txn) }
        var key = TrustRecord.key(path)
        return key.withUnsafeMutableBytes { k -> TrustEntry? in
            var mk = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
            var mv = MDB_val()
            guard mdb_get(txn, dbi, &mk, &mv) == 0 else { return nil }
            return TrustRecord.entry(path, UnsafeRawBufferPointer(start: mv.mv_data, count: mv.mv_size))
        }
    }

    /// Every entry, in key order (for `fanfilter trust list`).
    public func forEach(_ body: (TrustEntry) -> Void) {
        var txn: OpaquePointer?
        guard mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn) == 0 else { return }
        defer { mdb_txn_abort(txn) }
        var cursor: OpaquePointer?
        guard mdb_cursor_open(txn, dbi, &cursor) == 0 else { return }
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val(), v = MDB_val()
        var op = MDB_FIRST
        while mdb_cursor_get(cursor, &k, &v, op) == 0 {
            op = MDB_NEXT
            let value = UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
            var path = Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size))
            if path.count > TrustRecord.longKeyPrefix, value.count > 12 {
                let digestLength = TrustRecord.digestLengths[Int(min(value[2], 3))]
                path = Array(value[min(value.count, 12 + digestLength)...])
            }
            if let entry = TrustRecord.entry(path, value) { body(entry) }
        }
    }
}

/// Why a trust database could not be opened, built or read: the file, what
/// failed, and the system's or LMDB's own words.
public struct TrustDatabaseError: Error, CustomStringConvertible {
    public let path: String
    public let what: String
    public let reason: String

    init(path: String, what: String, code: Int32) {
        self.path = path
        self.what = what
        reason = code == 0 ? "" : String(cString: mdb_strerror(code))
    }

    init(path: String, what: String, errno: Errno) {
        self.path = path
        self.what = what
        reason = errno.description
    }

    public var description: String { "\(path): \(what)" + (reason.isEmpty ? "" : ": \(reason)") }
}
