import Dispatch
import Foundation
import Glibc
import Logging
import Policy
import Synchronization
import XCTest

/// A private tmpfs for one test: the only filesystem a kernel test marks.
/// Mounted on a fresh directory and detached again by `remove()`; `make test`
/// also runs the tests in a mount namespace of their own (unshare -m).
/// `Sandbox(unmountedIn:)` is a plain folder instead, for tests without root.
public final class Sandbox {
    public let root: String
    private let mounted: Bool

    /// A fresh folder under `parent` (on /dev/shm, a tmpfs, by default), mounted on nothing:
    /// for tests that touch no kernel mark, run by any user. `remove()` deletes it.
    public init(unmountedIn parent: String = "/dev/shm") throws {
        var template = Array("\(access(parent, W_OK) == 0 ? parent : "/tmp")/fanfilter-test.XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        root = String(cString: dir)
        mounted = false
    }

    /// What a mounted sandbox is: a tmpfs, or an ext4 image on a tmpfs,
    /// loop-mounted over it (for what a kernel refuses on tmpfs).
    public enum Filesystem { case tmpfs, ext4Image }

    /// The filesystems mounted on `root`, one over the other.
    private var layers = 0

    public convenience init() throws { try self.init(filesystem: .tmpfs) }

    public init(filesystem: Filesystem) throws {
        mounted = true
        guard getuid() == 0 else { throw XCTSkip("kernel tests need root: run `sudo make test`") }
        var template = Array("/tmp/fanfilter-test.XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        root = String(cString: dir)
        guard mount("tmpfs", root, "tmpfs", 0, "size=256m,mode=0755") == 0 else {
            let e = errno
            rmdir(root)
            throw XCTSkip("cannot mount a tmpfs (errno \(e)): kernel tests need root")
        }
        layers = 1
        guard filesystem == .ext4Image else { return }
        let image = root + "/.ext4.img"
        for step in [["/usr/bin/truncate", "-s", "64M", image], ["/usr/sbin/mkfs.ext4", "-q", image],
                     ["/bin/mount", "-o", "loop", image, root]] {
            let r = Child(step, mergeStderr: true).wait(timeout: .seconds(30))
            guard r.status == 0 else {
                remove()
                throw SetupError(what: "\(step.joined(separator: " ")) failed: \(r.output)")
            }
        }
        layers = 2
    }

    public func remove() {
        if mounted {
            for _ in 0..<layers { umount2(root, Int32(MNT_DETACH)) }
            rmdir(root)
        } else {
            // rm copes with names that are not UTF-8 and paths near PATH_MAX.
            _ = Child(["/bin/rm", "-rf", root]).wait()
        }
    }

    /// The absolute path of `relative` inside the sandbox, as bytes.
    public func path(_ relative: [UInt8]) -> [UInt8] { Array(root.utf8) + [UInt8(ascii: "/")] + relative }
    public func path(_ relative: String) -> [UInt8] { path(Array(relative.utf8)) }

    /// Creates a file (and its parent directories) with `contents` and `mode`.
    @discardableResult
    public func file(_ relative: [UInt8], contents: [UInt8] = Array("data\n".utf8), mode: mode_t = 0o644) -> [UInt8] {
        let full = path(relative)
        var end = Array(root.utf8).count + 1
        while let slash = full[end...].firstIndex(of: UInt8(ascii: "/")) {
            _ = mkdir(cString(full[..<slash]), 0o755)
            end = slash + 1
        }
        let fd = open(cString(full), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        precondition(fd >= 0, "cannot create \(printable(full)): errno \(errno)")
        _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        close(fd)
        return full
    }

    @discardableResult
    public func file(_ relative: String, contents: [UInt8] = Array("data\n".utf8), mode: mode_t = 0o644) -> [UInt8] {
        file(Array(relative.utf8), contents: contents, mode: mode)
    }

    /// Copies an executable (e.g. /bin/true) into the sandbox.
    @discardableResult
    public func executable(_ relative: String, from source: String) -> [UInt8] {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        precondition(fd >= 0)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while case let n = chunk.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }), n > 0 {
            bytes += chunk[..<n]
        }
        return file(relative, contents: bytes, mode: 0o755)
    }
}
