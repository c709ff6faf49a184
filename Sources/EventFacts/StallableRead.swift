import Dispatch
import Glibc
import Synchronization

/// Reads of what another process controls and may stall: its memory (its
/// environment, /proc/PID/environ), which it can map from a FUSE server
/// that never answers. Such a read runs on a thread of its own and is waited
/// for until a deadline; past it the caller goes on without the fact, and a
/// read that never comes back holds only its own thread.
///
/// Guarantee: a caller waits no longer than `within`; one user (real uid)
/// has at most `perUser` reads outstanding and the agent at most `total`,
/// past which a read is not tried (nil at once), so one user's stalled reads
/// cost another user's nothing.
final class StallableRead: Sendable {
    static let shared = StallableRead()
    static let perUser = 4
    static let total = 64

    private let outstanding = Mutex<(byUser: [UInt32: Int], all: Int)>(([:], 0))

    /// `body`'s result, or nil when it did not finish within `within`, or was not tried.
    func run<R: Sendable>(for user: UInt32, within: DispatchTimeInterval, _ body: @escaping @Sendable () -> R) -> R? {
        let admitted = outstanding.withLock { o -> Bool in
            guard o.all < Self.total, o.byUser[user, default: 0] < Self.perUser else { return false }
            o.all += 1
            o.byUser[user, default: 0] += 1
            return true
        }
        guard admitted else { return nil }
        let box = Box<R>()
        let started = Self.detach { [self] in
            box.put(body())
            release(user)
        }
        guard started else {
            release(user)
            return nil
        }
        return box.take(until: .now() + within)
    }

    private func release(_ user: UInt32) {
        outstanding.withLock { o in
            o.all -= 1
            let left = o.byUser[user, default: 1] - 1
            o.byUser[user] = left > 0 ? left : nil
        }
    }

    /// Runs `work` on a detached thread of its own; false when none could be made.
    private static func detach(_ work: @escaping @Sendable () -> Void) -> Bool {
        final class Work {
            let run: @Sendable () -> Void
            init(_ run: @escaping @Sendable () -> Void) { self.run = run }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 256 * 1024)
        let context = Unmanaged.passRetained(Work(work)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { context in
            Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context) == 0
        if !started { Unmanaged<Work>.fromOpaque(context).release() }
        return started
    }

    /// A read's result, handed from its thread to the caller waiting for it.
    private final class Box<R: Sendable>: Sendable {
        private let value = Mutex<R?>(nil)
        private let done = DispatchSemaphore(value: 0)

        func put(_ result: R) {
            value.withLock { $0 = result }
            done.signal()
        }

        func take(until deadline: DispatchTime) -> R? {
            guard done.wait(timeout: deadline) == .success else { return nil }
            return value.withLock { $0 }
        }
    }
}
