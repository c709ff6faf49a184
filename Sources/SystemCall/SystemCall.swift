import Glibc
import SystemPackage

/// Runs `call`, again while it fails with EINTR, and returns what it
/// returned; a result of -1 throws a SystemCallError naming `operation` and
/// the errno the call left. The one wrapper of the system calls that
/// swift-system's FileDescriptor does not make.
@inlinable
public func systemCall<Result: FixedWidthInteger & SignedInteger>(
    _ operation: @autoclosure () -> String, _ call: () -> Result
) throws(SystemCallError) -> Result {
    try retryingInterrupts(operation(), call) { $0 == -1 ? errno : nil }
}

/// The same for the C shims' calls, which return -errno where a system call
/// returns -1 and sets errno: any negative result throws (EINTR is retried).
@inlinable
public func shimCall<Result: FixedWidthInteger & SignedInteger>(
    _ operation: @autoclosure () -> String, _ call: () -> Result
) throws(SystemCallError) -> Result {
    try retryingInterrupts(operation(), call) { $0 < 0 ? Int32(truncatingIfNeeded: -$0) : nil }
}

/// Runs `call` until `failure` finds no errno in its result (then returns
/// it) or one other than EINTR (then throws it).
@inlinable
func retryingInterrupts<Result>(_ operation: @autoclosure () -> String, _ call: () -> Result,
                                failure: (Result) -> Int32?) throws(SystemCallError) -> Result {
    while true {
        let result = call()
        guard let code = failure(result) else { return result }
        if code != EINTR { throw SystemCallError(operation(), Errno(rawValue: code)) }
    }
}
