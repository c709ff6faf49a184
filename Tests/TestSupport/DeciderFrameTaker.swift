import Foundation
import Glibc
import PortServer
import Synchronization

/// Takes a PortServer's decider frames (replies, primes) on a thread of its
/// own, each time they come, as the agent's event reader does: for the tests
/// of the socket side that run without an agent. `stop()` before the server's.
public final class DeciderFrameTaker: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    public init(_ server: PortServer) {
        Thread.detachNewThread { [self] in
            var fds = [pollfd(fd: server.deciderFramesFD, events: Int16(POLLIN), revents: 0)]
            while !stopped.load(ordering: .acquiring) {
                fds[0].revents = 0
                // Bounded, so that `stop()` is seen: a frame wakes it at once.
                if poll(&fds, 1, 20) > 0 { server.takeDeciderFrames() }
            }
            done.signal()
        }
    }

    /// Stops taking frames, and returns once the thread has.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        done.wait()
    }
}
