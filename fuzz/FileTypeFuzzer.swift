// ELF headers and #! lines under libFuzzer: any bytes a file could hold
// must classify or be "not ELF", never a crash, a hang or a read past the
// file or beyond a bound. Built and run by `make fuzz` (swiftc
// -sanitize=fuzzer over FileType's ElfFacts.swift and Shebang.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFileTypes(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let facts = ElfFacts(size: UInt64(bytes.count)) { offset, count in
        precondition(count >= 0 && count <= 4 << 20, "an unbounded read: \(count) bytes")
        guard offset < UInt64(bytes.count) else { return [] }
        return Array(bytes[Int(offset)..<min(bytes.count, Int(offset) + count)])
    }
    _ = facts?.mimeType(path: Array("/usr/lib/libc.so.6".utf8)) { $0.count % 2 == 0 }
    if let interpreter = Shebang.interpreter(bytes) { _ = Shebang.mimeType(interpreter: interpreter) }
    return 0
}
