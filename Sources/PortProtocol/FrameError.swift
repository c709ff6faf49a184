/// A frame that cannot be taken: the code the other end is told, and what was wrong.
public struct FrameError: Error, Equatable, CustomStringConvertible {
    public var code: PortErrorCode
    public var detail: String

    public init(_ code: PortErrorCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }
}
