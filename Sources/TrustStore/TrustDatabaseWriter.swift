import CLMDB
import Glibc
import SystemPackage

/// Builds a trust database off the event path and puts it in place whole:
/// written to `PATH.new`, synced, then renamed over `PATH`, so an agent
/// reading the old file keeps reading it until it opens the new one, and no
/// reader ever sees half a database. Two updates at once take turns (a lock
/// on `PATH.lock`). When two sources list one path, the later in `entries`
/// wins (dpkg, then rpm, then the trust files: the administrator's word last).
public enum TrustDatabaseWriter {
    /// Writes `entries` as the database at `path`; returns how many it holds.
    @discardableResult
    public static func write(_ entries: [TrustEntry], to path: String) throws(TrustDatabaseError) -> Int {
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw TrustDatabaseError(path: path + ".lock", what: "cannot create the update lock", errno: Errno(rawValue: errno)) }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw TrustDatabaseError(path: path + ".lock", what: "cannot lock it", errno: Errno(rawValue: errno)) }

        // The last entry for each key, in LMDB's key order (bytewise), so each put appends.
        var byKey: [[UInt8]: Int] = [:]
        for (i, e) in entries.enumerated() { byKey[TrustRecord.key(e.path)] = i }
        let keys = byKey.keys.sorted { $0.lexicographicallyPrecedes($1) }

        let temporary = path + ".new"
        unlink(temporary)
        var env: OpaquePointer?
        var rc = mdb_env_create(&env)
        guard rc == 0, let env else { throw TrustDatabaseError(path: temporary, what: "cannot set up LMDB", code: rc) }
        var closed = false
        defer { if !closed { mdb_env_close(env); unlink(temporary) } }
        let estimate = keys.reduce(0) { $0 + $1.count + 120 } * 2 + (8 << 20)
        mdb_env_set_mapsize(env, estimate)
        rc = mdb_env_open(env, temporary, UInt32(MDB_NOSUBDIR | MDB_NOLOCK), 0o644)
        guard rc == 0 else { throw TrustDatabaseError(path: temporary, what: "cannot create it", code: rc) }
        var txn: OpaquePointer?
        var dbi: MDB_dbi = 0
        rc = mdb_txn_begin(env, nil, 0, &txn)
        if rc == 0 { rc = mdb_dbi_open(txn, nil, 0, &dbi) }
        guard rc == 0 else { throw TrustDatabaseError(path: temporary, what: "cannot write it", code: rc) }
        for key in keys {
            var k = key
            var v = TrustRecord.value(entries[byKey[key]!])
            rc = k.withUnsafeMutableBytes { kb in
                v.withUnsafeMutableBytes { vb in
                    var mk = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                    var mv = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                    return mdb_put(txn, dbi, &mk, &mv, UInt32(MDB_APPEND))
                }
            }
            guard rc == 0 else {
                mdb_txn_abort(txn)
                throw TrustDatabaseError(path: temporary, what: "cannot write '\(String(decoding: key, as: UTF8.self))'", code: rc)
            }
        }
        rc = mdb_txn_commit(txn)
        if rc == 0 { rc = mdb_env_sync(env, 1) }
        guard rc == 0 else { throw TrustDatabaseError(path: temporary, what: "cannot commit it", code: rc) }
        mdb_env_close(env)
        closed = true
        chmod(temporary, 0o644)
        guard rename(temporary, path) == 0 else {
            let saved = errno
            unlink(temporary)
            throw TrustDatabaseError(path: path, what: "cannot put the new database in place", errno: Errno(rawValue: saved))
        }
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
        return keys.count
    }
}
