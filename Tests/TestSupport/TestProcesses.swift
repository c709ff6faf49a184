import Dispatch
import Foundation
import FanFilter
import Glibc
import Logging
import Policy
import Synchronization
import XCTest

public func cString<C: Collection>(_ bytes: C) -> [CChar] where C.Element == UInt8 {
    bytes.map { CChar(bitPattern: $0) } + [0]
}

/// Where the test bundle's sibling products (fanfilter, the opener) are:
/// the folder of .build/debug/fanfilterPackageTests.xctest.
public let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    return (exe as NSString).deletingLastPathComponent + "/"
}()

public let openerPath = productsDirectory + "fanfilter-test-opener"
public let fanfilterPath = productsDirectory + "fanfilter"

/// The prefix that runs a child as uid and gid 1000.
public let asUser1000 = ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]

/// Opens each path once from a child process: "ok" or an errno name per path.
public func openFromChild(_ paths: [[UInt8]], prefix: [String] = [], timeout: Duration = .seconds(30)) -> [String] {
    let r = Child(prefix.map { Array($0.utf8) } + [Array(openerPath.utf8), Array("open".utf8)] + paths).wait(timeout: timeout)
    XCTAssertFalse(r.hung, "an opener hung")
    return r.lines.map(String.init)
}

