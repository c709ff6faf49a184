import Glibc

/// How `fanfilter run` treats signals. Guarantee: no signal a process can be
/// sent ends or stops the agent except SIGKILL and SIGSTOP (which cannot be
/// caught) and the ones that mean stop (SIGTERM, SIGINT, SIGQUIT), which stop
/// it cleanly. SIGPIPE and the job-control stops are ignored; every other
/// asynchronous signal is blocked in every thread and taken by sigwait on the
/// main thread, which logs it.
enum AgentSignals {
    enum Meaning { case stop, reload, report, ignore }

    /// The signals sigwait takes: every one whose default action ends the
    /// process and that is not a fault of the process itself (SIGSEGV, SIGBUS,
    /// SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT stay as they are).
    static var waited: [Int32] {
        [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO,
         SIGPWR, SIGSTKFLT, SIGXCPU]
            + Array(libcCurrentSigrtmin()...libcCurrentSigrtmax())
    }

    /// Ignored outright: a closed reader of stderr, and terminal job control.
    static let ignored: [Int32] = [SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ]

    /// Blocks the waited signals (before any other thread exists, so every
    /// thread inherits the mask) and ignores the others; returns the set to
    /// pass to sigwait.
    static func install() -> sigset_t {
        for sig in ignored { signal(sig, SIG_IGN) }
        var set = sigset_t()
        sigemptyset(&set)
        for sig in waited { sigaddset(&set, sig) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        return set
    }

    static func meaning(of sig: Int32) -> Meaning {
        switch sig {
        case SIGTERM, SIGINT, SIGQUIT: .stop
        case SIGHUP: .reload
        case SIGUSR1: .report
        default: .ignore
        }
    }

    static func name(_ sig: Int32) -> String {
        if sig >= libcCurrentSigrtmin() { return "SIGRTMIN+\(sig - libcCurrentSigrtmin())" }
        return strsignal(sig).map { String(cString: $0) } ?? "signal \(sig)"
    }
}

/// SIGRTMIN and SIGRTMAX are macros over these glibc functions.
@_silgen_name("__libc_current_sigrtmin") private func libcCurrentSigrtmin() -> Int32
@_silgen_name("__libc_current_sigrtmax") private func libcCurrentSigrtmax() -> Int32
