import AgentCounts
import DequeModule
import Dispatch
import Fanotify
import Glibc
import Synchronization

/// Hashes files for the workers on a thread of its own, so a large file
/// never holds a worker past its event's deadline.
///
/// Guarantees: a file (by identity) is hashed at most once at a time, and
/// its digest is kept, so the next access to it is decided from the cache
/// even when the first one's event was answered by `on_timeout` while the
/// hash ran; a worker waits no longer than the deadline it gives; the
/// thread takes turns between users (real uid), a slice of `slice` bytes
/// each, so one user's files, however many or large, delay another's by no
/// more than one slice per turn of the users waiting: a small file is
/// never hashed behind a large one. One process has at most
/// `perSubjectLimit` files queued or being hashed, the queue holds at most
/// `queueLimit`, and while it is at least half full one user may add at
/// most a quarter of it more (`UserShare`): past any of these the answer
/// is `busy`, which the worker turns into `on_overload` (deny for
/// executions), never into a skipped rule.
package final class BackgroundHasher: Sendable {
    package enum HashAnswer: Equatable {
        /// The digest, or nil when the file cannot be hashed (not a regular
        /// file, larger than hash_max_size, no libcrypto): then sha256hash matches no test.
        case digest([UInt8]?)
        /// Not done by the deadline; it goes on, its digest will be cached,
        /// and whoever asked to be told is told.
        case late
        /// The process already has its share of the hashing queued, or the queue is full.
        case busy
    }

    package static let perSubjectLimit = 2
    static let queueLimit = 64
    /// What one user's turn hashes before the next user's (or, for one user, the next file's).
    static let slice = 1 << 20

    /// One file being hashed, and whoever waits for it.
    private final class Job: @unchecked Sendable {
        let file: EventFile
        let key: ObjectHasher.Key
        let pid: Int32
        /// The user whose turn hashes it (real uid; UInt32.max when not known).
        let user: UInt32
        /// Counted in the busy queue's share of `user`.
        let counted: Bool
        /// Read and advanced by the hasher's thread alone.
        let hashing: ObjectHasher.Hashing
        private let result = Mutex<(digest: [UInt8]??, waiting: [@Sendable ([UInt8]?) -> Void])>((nil, []))
        private let done = DispatchSemaphore(value: 0)

        init(file: EventFile, key: ObjectHasher.Key, maxSize: UInt64, pid: Int32, user: UInt32, counted: Bool, counters: Counters?) {
            self.file = file
            self.key = key
            self.pid = pid
            self.user = user
            self.counted = counted
            hashing = ObjectHasher.Hashing(file.fd.rawValue, key, maxSize: maxSize, counters: counters)
        }

        func wait(until deadline: DispatchTime) -> [UInt8]?? {
            guard done.wait(timeout: deadline) == .success else { return nil }
            done.signal()  // the next waiter's turn
            return result.withLock { $0.digest }
        }

        /// Calls `body` with the digest once the file is hashed (at once, when it is already).
        func whenDone(_ body: @escaping @Sendable ([UInt8]?) -> Void) {
            let finished = result.withLock { r -> [UInt8]?? in
                if r.digest == nil { r.waiting.append(body) }
                return r.digest
            }
            if let finished { body(finished) }
        }

        func finish(_ digest: [UInt8]?) {
            let waiting = result.withLock { r -> [@Sendable ([UInt8]?) -> Void] in
                guard r.digest == nil else { return [] }
                r.digest = .some(digest)
                defer { r.waiting = [] }
                return r.waiting
            }
            done.signal()
            for body in waiting { body(digest) }
        }
    }

    private struct State {
        /// Each user's files, first come first; `turns` is the users with files, next turn first.
        var byUser: [UInt32: Deque<Job>] = [:]
        var turns = Deque<UInt32>()
        var count = 0
        var byKey: [ObjectHasher.Key: Job] = [:]
        var perSubject: [Int32: Int] = [:]
        var stopped = false

        mutating func append(_ job: Job) {
            if byUser[job.user, default: []].isEmpty { turns.append(job.user) }
            byUser[job.user, default: []].append(job)
            count += 1
        }

        /// The next turn's job, left in place.
        func next() -> Job? { turns.first.flatMap { byUser[$0]?.first } }

        /// Ends the current turn: `finished` leaves the queue, and the user goes to the back of the turns.
        mutating func endTurn(finished: Job?) {
            guard let user = turns.popFirst() else { return }
            if let finished, byUser[user]?.first === finished {
                byUser[user]?.removeFirst()
                count -= 1
                byKey[finished.key] = nil
                perSubject[finished.pid, default: 1] -= 1
                if perSubject[finished.pid] == 0 { perSubject[finished.pid] = nil }
            } else if let job = byUser[user]?.popFirst() {
                byUser[user]?.append(job)  // a large file gives way to the user's next one too
            }
            if byUser[user]?.isEmpty ?? true { byUser[user] = nil } else { turns.append(user) }
        }
    }

    private let state = Mutex(State())
    private let work = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    private let users = UserShare()
    /// The most files queued (a test gives a smaller queue).
    private let queueLimit: Int

    package let hasher: ObjectHasher

    package init(hasher: ObjectHasher = ObjectHasher(), queueLimit: Int = BackgroundHasher.queueLimit) {
        self.hasher = hasher
        self.queueLimit = queueLimit
        DispatchQueue(label: "fanfilter.hasher").async(group: done) { [self] in run() }
    }

    /// Files queued or being hashed.
    var queued: Int { state.withLock { $0.count } }

    /// The digest of the event's file (SHA-256 unless told), from the cache
    /// or hashed on the hasher's thread, waited for until `deadline` (which
    /// may be now). When that answers `.late`, `whenDone` is called with the
    /// digest once the file is hashed, on the hasher's thread: a worker need
    /// not wait for it.
    package func digest(of file: EventFile, _ algorithm: LibCrypto.Algorithm = .sha256, maxSize: UInt64, subject pid: Int32,
                until deadline: DispatchTime, whenDone: (@Sendable ([UInt8]?) -> Void)? = nil) -> HashAnswer {
        guard let identity = hasher.key(of: file.fd.rawValue, maxSize: maxSize) else { return .digest(nil) }
        let key = ObjectHasher.Key(file: identity, algorithm: algorithm)
        if let hit = hasher.cached(key) { return .digest(hit) }
        let user = ProcFacts.realUID(pid: pid, pidfd: file.pidfdNumber) ?? UInt32.max
        // A busy queue: each user gets a share of it, as the event queue does.
        let busy = queued >= queueLimit / 2
        let job = state.withLock { s -> Job? in
            if let running = s.byKey[key] { return running }
            guard !s.stopped, s.count < queueLimit, s.perSubject[pid, default: 0] < Self.perSubjectLimit,
                  !busy || users.admit(user, bound: max(1, queueLimit / 4)) else { return nil }
            let job = Job(file: file, key: key, maxSize: maxSize, pid: pid, user: user, counted: busy, counters: hasher.counters)
            s.byKey[key] = job
            s.perSubject[pid, default: 0] += 1
            s.append(job)
            return job
        }
        guard let job else { return .busy }
        work.signal()
        guard let digest = job.wait(until: deadline) else {
            if let whenDone { job.whenDone(whenDone) }
            return .late
        }
        return .digest(digest)
    }

    /// What `digest` would answer at once (a kept digest, or none for a file
    /// that is not hashed), or nil when it would have to hash the file.
    package func cachedDigest(of file: EventFile, _ algorithm: LibCrypto.Algorithm, maxSize: UInt64) -> HashAnswer? {
        guard let identity = hasher.key(of: file.fd.rawValue, maxSize: maxSize) else { return .digest(nil) }
        return hasher.cached(ObjectHasher.Key(file: identity, algorithm: algorithm)).map { .digest($0) }
    }

    /// Whether `digest` would answer at once for the file `st` describes: its
    /// digest is kept, or it is not a file that is hashed at all.
    package func isReady(_ st: stat, _ algorithm: LibCrypto.Algorithm, maxSize: UInt64) -> Bool {
        guard st.st_mode & S_IFMT == S_IFREG, st.st_size >= 0, UInt64(st.st_size) <= maxSize else { return true }
        return hasher.cached(st, algorithm, maxSize: maxSize) != nil
    }

    /// Stops the thread once the slice in hand is done; queued jobs end unhashed.
    package func stop() {
        let left = state.withLock { s -> [Job] in
            s.stopped = true
            defer { s.byUser.removeAll(); s.turns.removeAll(); s.count = 0 }
            return s.byUser.values.flatMap { $0 }
        }
        for job in left { job.finish(nil) }
        work.signal()
        done.wait()
    }

    private func run() {
        while true {
            work.wait()
            while let job = state.withLock({ s -> Job? in s.stopped ? nil : s.next() }) {
                guard case .done = job.hashing.advance(by: Self.slice) else {
                    state.withLock { $0.endTurn(finished: nil) }
                    continue
                }
                let digest = hasher.finish(job.hashing)
                state.withLock { $0.endTurn(finished: job) }
                if job.counted { users.release(job.user) }
                job.finish(digest)
            }
            if state.withLock({ $0.stopped }) { return }
        }
    }
}
