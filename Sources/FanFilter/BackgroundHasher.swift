import DequeModule
import Dispatch
import Glibc
import Synchronization

/// Hashes files for the workers on a thread of its own, so a large file
/// never holds a worker past its event's deadline.
///
/// Guarantees: a file (by identity) is hashed at most once at a time, and
/// its digest is kept, so the next access to it is decided from the cache
/// even when the first one's event was answered by `on_timeout` while the
/// hash ran; a worker waits no longer than the deadline it gives; one
/// process has at most `perSubjectLimit` files queued or being hashed, the
/// queue holds at most `queueLimit`, and while it is at least half full one
/// user (real uid) may add at most a quarter of it more (`UserShare`): past
/// any of these the answer is `busy`, which the worker turns into
/// `on_overload` (deny for executions), never into a skipped rule.
final class BackgroundHasher: Sendable {
    enum Outcome: Equatable {
        /// The digest, or nil when the file cannot be hashed (not a regular
        /// file, larger than hash_max_size, no libcrypto): then sha256hash matches no test.
        case digest([UInt8]?)
        /// Not done by the deadline; it goes on, and its digest will be cached.
        case late
        /// The process already has its share of the hashing queued, or the queue is full.
        case busy
    }

    static let perSubjectLimit = 2
    static let queueLimit = 64

    /// One file being hashed, and whoever waits for it.
    private final class Job: Sendable {
        let file: EventFile
        let key: ObjectHasher.Key
        let maxSize: UInt64
        let pid: Int32
        /// The user it is counted for in the busy queue's share (nil: not counted).
        let user: UInt32?
        private let result = Mutex<[UInt8]??>(nil)
        private let done = DispatchSemaphore(value: 0)

        init(file: EventFile, key: ObjectHasher.Key, maxSize: UInt64, pid: Int32, user: UInt32?) {
            self.file = file
            self.key = key
            self.maxSize = maxSize
            self.pid = pid
            self.user = user
        }

        func wait(until deadline: DispatchTime) -> [UInt8]?? {
            guard done.wait(timeout: deadline) == .success else { return nil }
            done.signal()  // the next waiter's turn
            return result.withLock { $0 }
        }

        func finish(_ digest: [UInt8]?) {
            result.withLock { $0 = .some(digest) }
            done.signal()
        }
    }

    private struct State {
        var queue = Deque<Job>()
        var byKey: [ObjectHasher.Key: Job] = [:]
        var perSubject: [Int32: Int] = [:]
        var stopped = false
    }

    private let state = Mutex(State())
    private let work = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    private let users = UserShare()
    /// The most files queued (a test gives a smaller queue).
    private let queueLimit: Int

    let hasher: ObjectHasher

    init(hasher: ObjectHasher = ObjectHasher(), queueLimit: Int = BackgroundHasher.queueLimit) {
        self.hasher = hasher
        self.queueLimit = queueLimit
        DispatchQueue(label: "fanfilter.hasher").async(group: done) { [self] in run() }
    }

    /// Files queued and not yet being hashed.
    var queued: Int { state.withLock { $0.queue.count } }

    /// The digest of the event's file (SHA-256 unless told), from the cache
    /// or hashed on the hasher's thread, waited for until `deadline`.
    func digest(of file: EventFile, _ algorithm: LibCrypto.Algorithm = .sha256, maxSize: UInt64, subject pid: Int32,
                until deadline: DispatchTime) -> Outcome {
        guard let identity = hasher.key(of: file.fd.rawValue, maxSize: maxSize) else { return .digest(nil) }
        let key = ObjectHasher.Key(file: identity, algorithm: algorithm)
        if let hit = hasher.cached(key) { return .digest(hit) }
        // A busy queue: each user gets a share of it, as the event queue does.
        let user = queued >= queueLimit / 2 ? ProcFacts.realUID(pid: pid, pidfd: file.pidfdNumber) : nil
        let job = state.withLock { s -> Job? in
            if let running = s.byKey[key] { return running }
            guard !s.stopped, s.queue.count < queueLimit, s.perSubject[pid, default: 0] < Self.perSubjectLimit,
                  user.map({ users.admit($0, bound: max(1, queueLimit / 4)) }) ?? true else { return nil }
            let job = Job(file: file, key: key, maxSize: maxSize, pid: pid, user: user)
            s.byKey[key] = job
            s.perSubject[pid, default: 0] += 1
            s.queue.append(job)
            return job
        }
        guard let job else { return .busy }
        work.signal()
        guard let digest = job.wait(until: deadline) else { return .late }
        return .digest(digest)
    }

    /// What `digest` would answer at once (a kept digest, or none for a file
    /// that is not hashed), or nil when it would have to hash the file.
    func cachedDigest(of file: EventFile, _ algorithm: LibCrypto.Algorithm, maxSize: UInt64) -> Outcome? {
        guard let identity = hasher.key(of: file.fd.rawValue, maxSize: maxSize) else { return .digest(nil) }
        return hasher.cached(ObjectHasher.Key(file: identity, algorithm: algorithm)).map { .digest($0) }
    }

    /// Whether `digest` would answer at once for the file `st` describes: its
    /// digest is kept, or it is not a file that is hashed at all.
    func isReady(_ st: stat, _ algorithm: LibCrypto.Algorithm, maxSize: UInt64) -> Bool {
        guard st.st_mode & S_IFMT == S_IFREG, st.st_size >= 0, UInt64(st.st_size) <= maxSize else { return true }
        return hasher.cached(st, algorithm, maxSize: maxSize) != nil
    }

    /// Stops the thread once the job in hand is done; queued jobs end unhashed.
    func stop() {
        let left = state.withLock { s -> [Job] in
            s.stopped = true
            defer { s.queue.removeAll() }
            return Array(s.queue)
        }
        for job in left { job.finish(nil) }
        work.signal()
        done.wait()
    }

    private func run() {
        while true {
            work.wait()
            while let job = state.withLock({ s -> Job? in s.stopped ? nil : s.queue.popFirst() }) {
                let digest = hasher.hash(job.file.fd.rawValue, job.key, maxSize: job.maxSize)
                state.withLock { s in
                    s.byKey[job.key] = nil
                    s.perSubject[job.pid, default: 1] -= 1
                    if s.perSubject[job.pid] == 0 { s.perSubject[job.pid] = nil }
                }
                if let user = job.user { users.release(user) }
                job.finish(digest)
            }
            if state.withLock({ $0.stopped }) { return }
        }
    }
}
