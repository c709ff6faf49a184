/// Calls `body` with `bytes` as a NUL-terminated C string: how a path held
/// as bytes (any byte but NUL) reaches a system call.
public func withCPath<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    try (bytes + [0]).withUnsafeBufferPointer { p in
        try p.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}
