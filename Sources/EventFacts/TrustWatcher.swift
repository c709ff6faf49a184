import Dispatch
import Fanotify
import Glibc
import SystemCall

/// Looks every `interval` whether the trust database the policy in force
/// reads was replaced (`fanfilter trust update` renames a new file into
/// place), and then calls `onTick`'s check off the event path: a stat every
/// two seconds, so a new database is in force at most that long after it is
/// written. A thread of its own waiting in poll(2) on a stop pipe (no
/// dispatch timer: libdispatch's timer thread would try to raise its
/// priority, which the hardened unit refuses and libdispatch then logs).
package final class TrustWatcher: Sendable {
    private let stopPipe: StopPipe
    private let done = DispatchGroup()

    /// Throws when no stop pipe can be made (no descriptors left).
    package init(every interval: Duration = .seconds(2), onTick: @escaping @Sendable () -> Void) throws(SystemCallError) {
        let stopPipe = try StopPipe(for: "the trust database watcher's stop")
        self.stopPipe = stopPipe
        let milliseconds = Int32(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        DispatchQueue(label: "fanfilter.trust-watcher").async(group: done) {
            var fds = [stopPipe.entry]
            while stopPipe.poll(&fds, milliseconds: milliseconds) == .timedOut { onTick() }
        }
    }

    /// Stops the thread and waits for it.
    package func stop() {
        stopPipe.signal()
        done.wait()
    }
}
