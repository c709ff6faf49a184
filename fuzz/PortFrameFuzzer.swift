// The port's frame decoders under libFuzzer: any bytes a client (or an
// agent) could send must decode to a frame or give a FrameError, never a
// crash or a hang; a frame that decodes encodes back to the same bytes'
// frame. Built and run by `make fuzz` (swiftc -sanitize=fuzzer over the
// PortProtocol module's sources).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let frame = try? ClientFrame.decode(bytes) {
        precondition((try? ClientFrame.decode(frame.encode())) == frame, "a client frame does not survive encoding: \(frame)")
    }
    if let frame = try? AgentFrame.decode(bytes) {
        precondition((try? AgentFrame.decode(frame.encode())) == frame, "an agent frame does not survive encoding: \(frame)")
    }
    _ = ClientFrame.verdict(of: bytes)
    return 0
}
