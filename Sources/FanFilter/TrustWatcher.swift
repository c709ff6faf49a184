import Dispatch

/// Looks every `interval` whether the trust database the policy in force
/// reads was replaced (`fanfilter trust update` renames a new file into
/// place), and then calls `onChange` off the event path. A stat every two
/// seconds: a new database is in force at most that long after it is written.
// A dispatch source may be cancelled from any thread; it is set up once, in init.
final class TrustWatcher: @unchecked Sendable {
    private let timer: DispatchSourceTimer

    init(every interval: Duration = .seconds(2), onTick: @escaping @Sendable () -> Void) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "fanfilter.trust-watcher"))
        let nanoseconds = Int(interval.components.seconds) * 1_000_000_000 + Int(interval.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler(handler: onTick)
        timer.resume()
    }

    func stop() { timer.cancel() }
}
