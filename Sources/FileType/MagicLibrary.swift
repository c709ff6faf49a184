import CMagic
import Synchronization

/// libmagic's MIME types, through a small pool of its handles (a handle is
/// not safe on two threads at once; each caller takes one of its own). The
/// first handle is opened, and the compiled magic database mapped, at the
/// first question, so an agent whose policy never tests `ftype` never loads it.
public final class MagicLibrary: Sendable {
    private struct Handle: @unchecked Sendable { let cookie: OpaquePointer }

    private let idle = Mutex<[Handle]>([])
    private let failed = Atomic<Bool>(false)
    /// How much of a file libmagic reads at most.
    public static let bytesRead = 256 * 1024

    public init() {}

    deinit {
        for handle in idle.withLock({ $0 }) { magic_close(handle.cookie) }
    }

    /// The MIME type of the open file `fd` (read from its current offset,
    /// which libmagic puts back), without parameters; nil when libmagic cannot
    /// say or cannot load its database.
    public func mimeType(of fd: Int32) -> String? {
        guard let handle = take() else { return nil }
        defer { idle.withLock { $0.append(handle) } }
        guard let type = magic_descriptor(handle.cookie, fd) else { return nil }
        let text = String(cString: type)
        return text.split(separator: ";").first.map(String.init)
    }

    /// The MIME type of bytes in memory.
    public func mimeType(of bytes: [UInt8]) -> String? {
        guard let handle = take() else { return nil }
        defer { idle.withLock { $0.append(handle) } }
        guard let type = bytes.withUnsafeBytes({ magic_buffer(handle.cookie, $0.baseAddress, $0.count) }) else { return nil }
        return String(cString: type).split(separator: ";").first.map(String.init)
    }

    /// Why libmagic could not be loaded, once it failed (nil while it works).
    public var loadFailed: Bool { failed.load(ordering: .relaxed) }

    private func take() -> Handle? {
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        guard !failed.load(ordering: .relaxed) else { return nil }
        // Decompressing or looking inside ELF and CDF files is not a type's business here.
        guard let cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_CDF) else {
            failed.store(true, ordering: .relaxed)
            return nil
        }
        var limit = Self.bytesRead
        _ = magic_setparam(cookie, MAGIC_PARAM_BYTES_MAX, &limit)
        guard magic_load(cookie, nil) == 0 else {
            magic_close(cookie)
            failed.store(true, ordering: .relaxed)
            return nil
        }
        return Handle(cookie: cookie)
    }
}
