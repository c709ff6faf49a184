/// Whether waiting threads may spin before they sleep (`spin = auto | off`).
/// `auto`: while events come close together on a machine that is not busy
/// (see the agent's `BusyCPU`), for lower latency at some CPU; `off`: never,
/// for the least CPU per event.
public enum SpinMode: String, Sendable, Equatable, CaseIterable {
    case auto, off
}
