import Glibc

/// Moves one decider thread to SCHED_BATCH while the agent is the busy side,
/// and back to the normal class when it is not. Each thread that calls
/// `getMessage()` keeps one and shows it every message it gets.
///
/// The agent flags a message when its event reader read more events behind
/// it (`EventRecord.moreEventsWaiting`): several openers are waiting, and the
/// reader, which sends every event and takes every reply, is the bottleneck.
/// A normal thread woken by the reader's send may then preempt the reader on
/// its own CPU; a SCHED_BATCH thread never preempts the thread that runs, so
/// the reader goes on to its next event. With one opener the flag never comes,
/// and a batch thread would only wait longer for a CPU-bound neighbour: the
/// thread stays normal.
///
/// Guarantee: the thread is moved only while it is in the normal class when
/// the follower first sees a message (a real-time or already-batch thread is
/// left alone), only on a change (with hysteresis: to batch when a moving
/// average of the flag, weight 1/8, passes a quarter; back below a tenth), and
/// never needs a privilege (SCHED_OTHER and SCHED_BATCH are open to any
/// thread). A failed change is given up, and the thread stays as it was.
public struct AgentLoadFollower: Sendable {
    /// The share of flagged messages, out of `scale`, as a moving average.
    public private(set) var average = 0
    /// Whether this thread is in SCHED_BATCH now, by the follower's doing.
    public private(set) var inBatch = false
    private var state = State.unchecked
    private let setPolicy: @Sendable (Int32) -> Bool
    private let currentPolicy: @Sendable () -> Int32?

    private enum State { case unchecked, following, leftAlone }

    /// SCHED_BATCH (linux/sched.h; Glibc's module leaves it out without _GNU_SOURCE).
    public static let batchPolicy: Int32 = 3

    static let scale = 1024
    /// Into batch above this average (a quarter), back out below the other (about a tenth).
    static let enterAbove = scale / 4
    static let leaveBelow = scale * 3 / 32

    /// A follower for the calling thread.
    public init() {
        self.init(currentPolicy: AgentLoadFollower.threadPolicy, setPolicy: AgentLoadFollower.setThreadPolicy)
    }

    /// A follower that reads and sets a policy through the given functions (tests).
    /// `currentPolicy` returns nil when the policy cannot be read; `setPolicy` returns whether it was set.
    public init(currentPolicy: @escaping @Sendable () -> Int32?, setPolicy: @escaping @Sendable (Int32) -> Bool) {
        self.currentPolicy = currentPolicy
        self.setPolicy = setPolicy
    }

    /// Takes one message's flag into account, and moves the thread when the average crosses a bound.
    public mutating func note(_ message: ClientMessage) {
        note(moreEventsWaiting: message.event.moreEventsWaiting)
    }

    /// Takes one flag into account, and moves the thread when the average crosses a bound.
    public mutating func note(moreEventsWaiting: Bool) {
        if state == .unchecked { state = currentPolicy() == SCHED_OTHER ? .following : .leftAlone }
        guard state == .following else { return }
        average += ((moreEventsWaiting ? Self.scale : 0) - average) / 8
        if !inBatch, average > Self.enterAbove {
            move(to: Self.batchPolicy, inBatch: true)
        } else if inBatch, average < Self.leaveBelow {
            move(to: SCHED_OTHER, inBatch: false)
        }
    }

    private mutating func move(to policy: Int32, inBatch: Bool) {
        if setPolicy(policy) { self.inBatch = inBatch } else { state = .leftAlone }
    }

    @Sendable private static func threadPolicy() -> Int32? {
        var policy: Int32 = 0
        var parameters = sched_param()
        return pthread_getschedparam(pthread_self(), &policy, &parameters) == 0 ? policy : nil
    }

    @Sendable private static func setThreadPolicy(_ policy: Int32) -> Bool {
        var parameters = sched_param(sched_priority: 0)
        return pthread_setschedparam(pthread_self(), policy, &parameters) == 0
    }
}
