// The policy parser under libFuzzer: any bytes must give a policy or a list
// of diagnostics with locations, never a crash or a hang. Built and run by
// `make fuzz` (swiftc -sanitize=fuzzer over the Policy module's sources).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let policy = try Policy.parse(bytes, file: "fuzz")
        let request = AccessRequest(access: .open, subject: SubjectFacts(pid: 1, uid: 0, gid: 0, comm: [99], exe: [47]),
                                    path: Array("/srv/a/b".utf8))
        precondition(policy.decide(request) == policy.decideLinearly(request), "the index and the scan disagree")
    } catch {
        for d in error.diagnostics {
            precondition(d.location.file == "fuzz" && d.location.line >= 1 && d.location.column >= 1, "a diagnostic without a location: \(d)")
        }
    }
    return 0
}
