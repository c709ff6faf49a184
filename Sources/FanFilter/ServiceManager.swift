import CSystemd
import Dispatch
import Glibc
import Synchronization

/// What systemd learns of the agent through sd_notify: READY=1 once every
/// mark is in place, RELOADING=1 and READY=1 around a reload, STOPPING=1,
/// a STATUS= line kept current with the counters, and WATCHDOG=1 pings sent
/// only while the event reader's loop is seen turning (its heartbeat), so a
/// stuck or stopped agent is killed and restarted by systemd. Outside systemd
/// (no NOTIFY_SOCKET) every call does nothing.
public final class ServiceManager: Sendable {
    private let agent: Agent
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    public init(agent: Agent) { self.agent = agent }

    public static var underSystemd: Bool { getenv("NOTIFY_SOCKET") != nil }

    public func ready() { notify("READY=1\nSTATUS=\(status)") }
    public func reloading() { notify("RELOADING=1\nSTATUS=reloading the policy") }
    public func stopping() {
        notify("STOPPING=1\nSTATUS=stopping: answering the events in flight")
        if stopped.exchange(true, ordering: .relaxed) == false { done.signal() }
    }

    /// `watching 2 filesystems (enforce); 1203 events, 0 in flight, 4 denied, 0 timed out, 0 overloaded`
    public var status: String {
        let c = agent.counters
        let watched = agent.watched.filter { $0.device != nil }
        let filesystems = watched.filter { $0.scope == "filesystem" }.count
        let mounts = watched.count - filesystems
        let waiting = agent.watched.count - watched.count
        var what = "watching \(filesystems) filesystem\(filesystems == 1 ? "" : "s")"
        if mounts > 0 { what += " and \(mounts) mount\(mounts == 1 ? "" : "s")" }
        if waiting > 0 { what += ", \(waiting) watched path\(waiting == 1 ? "" : "s") with nothing mounted" }
        return "\(what) (\(agent.policy.agent.mode.rawValue)); \(c[.events]) events, \(agent.eventsInFlight) in flight, \(c[.denied]) denied, "
            + "\(c[.timedOut]) timed out, \(c[.overloaded]) overloaded"
    }

    /// Starts the thread that pings the watchdog (when systemd asked for one)
    /// and refreshes STATUS=, every half watchdog interval (or 5 s).
    public func startWatchdog() {
        guard Self.underSystemd else { return }
        var usec: UInt64 = 0
        let watchdog = sd_watchdog_enabled(0, &usec) > 0
        let interval = watchdog ? max(usec / 2, 100_000) : 5_000_000
        DispatchQueue(label: "fanfilter.watchdog").async { [self] in
            var lastBeat = agent.heartbeat
            while done.wait(timeout: .now() + .microseconds(Int(interval))) == .timedOut {
                let beat = agent.heartbeat
                let alive = beat != lastBeat
                lastBeat = beat
                notify((watchdog && alive ? "WATCHDOG=1\n" : "") + "STATUS=\(status)")
            }
        }
    }

    private func notify(_ state: String) {
        guard Self.underSystemd else { return }
        _ = sd_notify(0, state)
    }
}
