import Glibc

extension FilterPortClient {
    /// Puts the calling thread in the real-time class (SCHED_FIFO at
    /// `priority`, 1 to 99) for the rest of its life: for a decider's
    /// threads, whose answer every opener of an `ask` rule waits for.
    ///
    /// On a busy machine a woken normal thread now and then waits for a
    /// CPU-bound neighbour's whole time slice (milliseconds) before it runs;
    /// a real-time thread runs at once. The price is the same as for any
    /// real-time thread: while it works, normal threads on its CPU wait, so
    /// the work between two `getMessage()` calls should be short, and a
    /// thread that loops forever holds its CPU until the kernel's real-time
    /// throttling (95 % by default) lets others in. Any local user whose
    /// opens reach the decider can keep it working, and so take that much
    /// of a CPU from normal processes. It needs CAP_SYS_NICE, or an
    /// RLIMIT_RTPRIO of at least `priority` (systemd: LimitRTPRIO=).
    public static func runThisThreadInRealTime(priority: Int32 = 1) throws(FilterPortClientError) {
        var parameters = sched_param(sched_priority: priority)
        let error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
        guard error != 0 else { return }
        let why = String(cString: strerror(error))
        let hint = error == EPERM ? " (it needs CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least \(priority): LimitRTPRIO= in a systemd unit)"
            : error == EINVAL ? " (a real-time priority is 1 to 99)" : ""
        throw .scheduling("cannot run this thread SCHED_FIFO at priority \(priority): \(why)\(hint)")
    }
}
