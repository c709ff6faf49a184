import CLMDB
import Glibc
import SystemCall
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
        let lock: FileDescriptor
        do { lock = try FileDescriptor.open(path + ".lock", .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite]) } catch {
            throw TrustDatabaseError(path: path + ".lock", what: "cannot create the update lock", errno: (error as? Errno) ?? .ioError)
        }
        defer { try? lock.close() }
        do { _ = try systemCall("flock") { flock(lock.rawValue, LOCK_EX) } } catch {
            throw TrustDatabaseError(path: path + ".lock", what: "cannot lock it", errno: error.errno)
        }

        // The last entry for each key, in LMDB's key order (bytewise), so each put appends.
        var byKey: [[UInt8]: Int] = [:]
        for (i, e) in entries.enumerated() { byKey[TrustRecord.key(e.path)] = i }
        let keys = byKey.keys.sorted { $0.lexicographicallyPrecedes($1) }

        let temporary = path + ".new"
        remove(temporary)
        var env: OpaquePointer?
        var rc = mdb_env_create(&env)
        guard rc == 0, let env else { throw TrustDatabaseError(path: temporary, what: "cannot set up LMDB", code: rc) }
        var closed = false
        defer { if !closed { mdb_env_close(env); remove(temporary) } }
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
        // 0644 whatever the umask (mdb_env_open's mode is masked by it).
        _ = try? systemCall("chmod") { chmod(temporary, 0o644) }
        do { _ = try systemCall("rename") { rename(temporary, path) } } catch {
            remove(temporary)
            throw TrustDatabaseError(path: path, what: "cannot put the new database in place", errno: error.errno)
        }
        // The rename itself made lasting: a crash now leaves the new database, not a missing one.
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        if let dir = try? FileDescriptor.open(folder, .readOnly, options: [.directory, .closeOnExec]) {
            _ = try? systemCall("fsync") { fsync(dir.rawValue) }
            try? dir.close()
        }
        return keys.count
    }
}

/// Removes a file the writer made (gone already is fine).
private func remove(_ path: String) {
    _ = try? systemCall("unlink") { unlink(path) }
}
