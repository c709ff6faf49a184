import Dispatch
import Foundation
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

/// A folder every user can enter, for what the tests run as another user (uid
/// 1000, nobody): the clone may lie in a folder others cannot enter (Debian
/// 12 makes home folders 0700, and so does `mktemp -d`), and the build's
/// products and the checkout's scripts with it. Made once per test process
/// under /tmp, mode 0755, and removed when the process exits.
public let stagingFolder: String = {
    var template = Array("/tmp/fanfilter-test-staged.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { return productsDirectory }
    let folder = String(cString: made)
    chmod(folder, 0o755)
    stagedFolder = folder
    atexit { if let folder = stagedFolder { try? FileManager.default.removeItem(atPath: folder) } }
    return folder + "/"
}()

nonisolated(unsafe) private var stagedFolder: String?

/// A copy of the file at `path` in `stagingFolder` (its mode kept), which
/// another user can reach and run; `path` itself when it cannot be copied.
public func staged(_ path: String) -> String {
    let copy = stagingFolder + (path as NSString).lastPathComponent
    if FileManager.default.fileExists(atPath: copy) { return copy }
    do { try FileManager.default.copyItem(atPath: path, toPath: copy) } catch { return path }
    return copy
}

public let openerPath = staged(productsDirectory + "fanfilter-test-opener")
/// The daemon the unit starts; staged beside fanfilter, where `make install BINARY=` looks for it.
public let fanfilterdPath = staged(productsDirectory + "fanfilterd")
public let fanfilterPath: String = {
    _ = fanfilterdPath
    return staged(productsDirectory + "fanfilter")
}()

/// The prefix that runs a child as uid and gid 1000.
public let asUser1000 = ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]

/// Opens each path once from a child process: "ok" or an errno name per path.
public func openFromChild(_ paths: [[UInt8]], prefix: [String] = [], timeout: Duration = .seconds(30)) -> [String] {
    let r = Child(prefix.map { Array($0.utf8) } + [Array(openerPath.utf8), Array("open".utf8)] + paths).wait(timeout: timeout)
    XCTAssertFalse(r.hung, "an opener hung")
    return r.lines.map(String.init)
}

