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
    while true {
        let result = call()
        if result != -1 { return result }
        let code = errno
        if code != EINTR { throw SystemCallError(operation(), Errno(rawValue: code)) }
    }
}

/// The same for the C shims' calls, which return -errno where a system call
/// returns -1 and sets errno: any negative result throws (EINTR is retried).
@inlinable
public func shimCall<Result: FixedWidthInteger & SignedInteger>(
    _ operation: @autoclosure () -> String, _ call: () -> Result
) throws(SystemCallError) -> Result {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = Int32(truncatingIfNeeded: -result)
        if code != EINTR { throw SystemCallError(operation(), Errno(rawValue: code)) }
    }
}
