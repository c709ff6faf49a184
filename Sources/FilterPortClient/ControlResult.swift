import PortProtocol

/// The agent's answer to a control request: its text (JSON for status and
/// clients), and the error code when it failed.
public struct ControlResult: Sendable, Equatable {
    public var error: PortErrorCode?
    public var body: String
    public var succeeded: Bool { error == nil }
}
