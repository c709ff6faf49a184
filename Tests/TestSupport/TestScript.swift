import Foundation
import XCTest

/// The Tests folder of the checkout, for scripts the tests run.
public let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path

/// Runs the bash script `relative` (to the Tests folder) with `arguments`,
/// prints what it printed, and checks that it finished within `timeout` and
/// exited 0. Returns its result for the caller's own checks.
@discardableResult
public func runTestScript(_ relative: String, _ arguments: [String], timeout: Duration,
                          file: StaticString = #filePath, line: UInt = #line) -> Child.Result {
    let r = Child(["/bin/bash", testsFolder + "/" + relative] + arguments, mergeStderr: true).wait(timeout: timeout)
    print(r.output)
    XCTAssertFalse(r.hung, "\(relative) finishes within its bound", file: file, line: line)
    XCTAssertEqual(r.status, 0, r.output, file: file, line: line)
    return r
}
