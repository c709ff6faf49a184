/// What the headers of an ELF file say, read as fapolicyd reads them: the
/// file header, the program header table, the interpreter and the dynamic
/// section. Every offset and size is checked against the file before it is
/// read, so a malformed file costs a few bounded reads and is `malformed`.
public struct ElfFacts: Sendable, Equatable {
    public enum ObjectType: Sendable, Equatable { case relocatable, executable, shared, core, other }

    public var type: ObjectType = .other
    /// A header or table that does not hold together (fapolicyd's HAS_ERROR).
    public var malformed = false
    /// The program interpreter named by PT_INTERP, when there is one.
    public var interpreter: [UInt8]?
    public var dynamic = false
    /// DF_1_PIE in DT_FLAGS_1: the linker made it a position-independent
    /// executable, which glibc's dlopen refuses to load.
    public var pie = false
    public var executableStack = false
    public var writableExecutableSegment = false

    /// The runtime linkers fapolicyd knows by path; any other interpreter must be trusted.
    public static let knownInterpreters: [[UInt8]] = [
        "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux.so.2", "/usr/lib64/ld-linux-x86-64.so.2", "/usr/lib/ld-linux.so.2",
        "/lib/ld.so.2", "/lib/ld-linux-armhf.so.3", "/lib/ld-linux-aarch64.so.1", "/lib/ld64.so.1", "/lib64/ld64.so.2",
    ].map { Array($0.utf8) }

    /// Reads the headers through `read(offset, count)` (which returns fewer
    /// bytes at the end of the file). nil when the file is not ELF.
    public init?(size: UInt64, read: (UInt64, Int) -> [UInt8]) {
        let ident = read(0, 64)
        guard ident.count >= 16, ident.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { return nil }
        let wide = ident[4] == 2
        // Neither 32- nor 64-bit: an ELF file of no class (fapolicyd names none).
        guard ident[4] == 1 || wide else { return }
        let little = ident[5] != 2
        let headerSize = wide ? 64 : 52
        guard ident.count >= headerSize else { malformed = true; return }
        let header = Fields(bytes: ident, little: little)
        switch header.u16(16) {
        case 1: type = .relocatable
        case 2: type = .executable
        case 3: type = .shared
        case 4: type = .core
        default: type = .other
        }
        let tableOffset = wide ? header.u64(32) : UInt64(header.u32(28))
        let entrySize = Int(header.u16(wide ? 54 : 42))
        let entries = Int(header.u16(wide ? 56 : 44))
        let tableSize = UInt64(entrySize) * UInt64(entries)
        // An object file need not have a program header table.
        if tableSize == 0 && type == .relocatable { return }
        guard entrySize == (wide ? 56 : 32), entries > 0, size >= UInt64(headerSize),
              tableSize <= size - UInt64(headerSize) else { malformed = true; return }
        let tableBytes = read(tableOffset, Int(tableSize))
        guard tableBytes.count == Int(tableSize) else { malformed = true; return }
        let table = Fields(bytes: tableBytes, little: little)
        for n in 0..<entries {
            let at = n * entrySize
            let kind = table.u32(at)
            let flags = wide ? table.u32(at + 4) : table.u32(at + 24)
            let offset = wide ? table.u64(at + 8) : UInt64(table.u32(at + 4))
            let fileSize = wide ? table.u64(at + 32) : UInt64(table.u32(at + 16))
            switch kind {
            case 1:  // PT_LOAD
                if flags & 7 == 7 { writableExecutableSegment = true }
            case 2:  // PT_DYNAMIC
                dynamic = true
                guard fileSize <= size else { malformed = true; return }
                let entry = wide ? 16 : 8
                let count = Int(fileSize) / entry
                guard count <= 1000 else { malformed = true; return }
                guard count > 0 else { continue }
                let section = read(offset, Int(fileSize))
                guard section.count == Int(fileSize) else { malformed = true; return }
                let fields = Fields(bytes: section, little: little)
                let width = wide ? 8 : 4
                for i in 0..<count where (wide ? fields.u64(i * entry) : UInt64(fields.u32(i * entry))) == 0x6FFF_FFFB {  // DT_FLAGS_1
                    let flags = wide ? fields.u64(i * entry + width) : UInt64(fields.u32(i * entry + width))
                    if flags & 0x0800_0000 != 0 { pie = true }  // DF_1_PIE
                }
            case 3:  // PT_INTERP
                let length = Int(min(fileSize, 385))
                let name = read(offset, length)
                guard name.count == length else { malformed = true; return }
                // The name ends at its first NUL, and never takes the last byte read.
                interpreter = Array(name.prefix(max(0, length - 1)).prefix { $0 != 0 })
            case 0x6474_E551:  // PT_GNU_STACK
                if flags & 1 != 0 { executableStack = true }
            default: break
            }
        }
    }

    /// The MIME type of this ELF file in fapolicyd's names (nil: an ELF file
    /// of no class it names). `interpreterIsTrusted` is asked about an
    /// interpreter that is not a known runtime linker: an untrusted one makes
    /// the file bad. A shared object (ET_DYN) is typed by what the runtime
    /// linker will do with it: glibc's dlopen refuses one marked DF_1_PIE, an
    /// executable, and loads any other, a program interpreter or DT_DEBUG
    /// entry notwithstanding, so that one is a shared library. (fapolicyd
    /// types an ET_DYN with PT_INTERP or DT_DEBUG as an executable, but for
    /// glibc's own files under /lib and /usr/lib, so a library built with an
    /// interpreter escaped its rules for shared libraries and still loaded.)
    public func mimeType(interpreterIsTrusted: ([UInt8]) -> Bool) -> String? {
        if malformed { return "application/x-bad-elf" }
        if let interpreter, !Self.knownInterpreters.contains(interpreter), !interpreterIsTrusted(interpreter) {
            return "application/x-bad-elf"
        }
        switch type {
        case .executable: return "application/x-executable"
        case .relocatable: return "application/x-object"
        case .core: return "application/x-coredump"
        default: break
        }
        if pie { return "application/x-executable" }
        guard dynamic || interpreter != nil else { return nil }
        return "application/x-sharedlib"
    }

    /// A /lib64/ld-linux-x86-64.so.2 or another runtime linker fapolicyd knows.
    public static func isRuntimeLinker(_ path: [UInt8]) -> Bool { knownInterpreters.contains(path) }

    /// Integers of either byte order from a header read into memory.
    private struct Fields {
        let bytes: [UInt8]
        let little: Bool

        func value(_ at: Int, _ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<width {
                let byte = UInt64(bytes[at + (little ? width - 1 - i : i)])
                v = v << 8 | byte
            }
            return v
        }

        func u16(_ at: Int) -> UInt16 { UInt16(value(at, 2)) }
        func u32(_ at: Int) -> UInt32 { UInt32(value(at, 4)) }
        func u64(_ at: Int) -> UInt64 { value(at, 8) }
    }
}
