import Dispatch
import Foundation
import Glibc
import XCTest

/// Runs `body` on a thread of its own (which ends after it, taking its
/// scheduling class with it) and returns what it gave.
func onAThreadOfItsOwn<T>(_ body: @escaping @Sendable () -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Thread {
        box.value = body()
        done.signal()
    }.start()
    XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
    return box.value!
}

/// The calling thread's scheduling policy and priority.
func threadPolicy() -> (Int32, Int32) {
    var policy: Int32 = 0
    var parameters = sched_param()
    pthread_getschedparam(pthread_self(), &policy, &parameters)
    return (policy, parameters.sched_priority)
}

/// What a thread of its own gave back (written before its semaphore is signalled, read after).
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
