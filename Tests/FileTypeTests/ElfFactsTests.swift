import FileType
import XCTest

/// ELF classification from headers built byte by byte (no file, no root).
final class ElfFactsTests: XCTestCase {
    /// A 64-bit little-endian ELF file: header, program headers, then `tail`.
    func elf64(type: UInt16, segments: [(kind: UInt32, flags: UInt32, data: [UInt8])], entrySize: UInt16 = 56) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        out[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        out[4] = 2; out[5] = 1; out[6] = 1
        func put(_ v: UInt64, _ at: Int, _ width: Int, into b: inout [UInt8]) {
            for i in 0..<width { b[at + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) }
        }
        put(UInt64(type), 16, 2, into: &out)
        put(64, 32, 8, into: &out)                        // e_phoff
        put(64, 52, 2, into: &out)                        // e_ehsize
        put(UInt64(entrySize), 54, 2, into: &out)
        put(UInt64(segments.count), 56, 2, into: &out)
        var dataOffset = 64 + segments.count * 56
        var table: [UInt8] = []
        var data: [UInt8] = []
        for s in segments {
            var ph = [UInt8](repeating: 0, count: 56)
            put(UInt64(s.kind), 0, 4, into: &ph)
            put(UInt64(s.flags), 4, 4, into: &ph)
            put(UInt64(dataOffset), 8, 8, into: &ph)
            put(UInt64(s.data.count), 32, 8, into: &ph)
            table += ph
            data += s.data
            dataOffset += s.data.count
        }
        return out + table + data
    }

    func classify(_ bytes: [UInt8], trusted: Bool = false) -> String? {
        ElfFacts(size: UInt64(bytes.count)) { offset, count in
            guard offset < UInt64(bytes.count) else { return [] }
            return Array(bytes[Int(offset)..<min(bytes.count, Int(offset) + count)])
        }?.mimeType { _ in trusted }
    }

    let interp = Array("/lib64/ld-linux-x86-64.so.2\0".utf8)
    let dynamicWithDebug: [UInt8] = [21, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
    let dynamicPlain: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
    /// DT_FLAGS_1 with DF_1_PIE, as every PIE linker since binutils 2.26 writes it.
    let dynamicPie: [UInt8] = [0xFB, 0xFF, 0xFF, 0x6F, 0, 0, 0, 0] + [0, 0, 0, 0x08, 0, 0, 0, 0]

    func testTheClassesFapolicydNames() {
        XCTAssertEqual(classify(elf64(type: 2, segments: [(1, 5, [])])), "application/x-executable", "ET_EXEC")
        XCTAssertEqual(classify(elf64(type: 3, segments: [(3, 4, interp), (2, 6, dynamicPie + dynamicWithDebug)])),
                       "application/x-executable", "a PIE: DF_1_PIE, which dlopen refuses")
        XCTAssertEqual(classify(elf64(type: 3, segments: [(2, 6, dynamicPie)])), "application/x-executable", "a static PIE")
        XCTAssertEqual(classify(elf64(type: 3, segments: [(2, 6, dynamicPlain)])), "application/x-sharedlib")
        XCTAssertEqual(classify(elf64(type: 3, segments: [(2, 6, dynamicWithDebug)])), "application/x-sharedlib",
                       "DT_DEBUG without DF_1_PIE: dlopen loads it")
        XCTAssertEqual(classify(elf64(type: 3, segments: [(3, 4, interp), (2, 6, dynamicPlain)])), "application/x-sharedlib",
                       "libc.so.6 has an interpreter and is a library, wherever it lies")
        XCTAssertEqual(classify(elf64(type: 3, segments: [(3, 4, interp)])), "application/x-sharedlib",
                       "regression: a shared object that carries PT_INTERP is what dlopen loads, not an executable")
        XCTAssertEqual(classify(elf64(type: 4, segments: [(1, 4, [])])), "application/x-coredump")
        var object = elf64(type: 1, segments: [])
        object[54] = 0
        XCTAssertEqual(classify(object), "application/x-object", "an object file needs no program headers")
        XCTAssertNil(classify(elf64(type: 3, segments: [(1, 5, [])])), "a shared object with no dynamic section: no class")
    }

    func testBadElf() {
        let bad = "application/x-bad-elf"
        XCTAssertEqual(classify(elf64(type: 2, segments: [(1, 5, [])], entrySize: 32)), bad, "wrong program header size")
        XCTAssertEqual(classify(elf64(type: 2, segments: [])), bad, "no program headers")
        XCTAssertEqual(classify(Array(elf64(type: 2, segments: [(1, 5, []), (1, 5, [])]).prefix(100))), bad, "table past the end")
        XCTAssertEqual(classify(Array(elf64(type: 2, segments: [(1, 5, [])]).prefix(40))), bad, "header cut short")
        XCTAssertEqual(classify(elf64(type: 2, segments: [(3, 4, Array("/tmp/evil-ld.so\0".utf8))])), bad, "an unknown interpreter")
        XCTAssertEqual(classify(elf64(type: 2, segments: [(3, 4, Array("/tmp/evil-ld.so\0".utf8))]), trusted: true),
                       "application/x-executable", "an unknown interpreter that is trusted")
        let hugeDynamic = elf64(type: 3, segments: [(2, 6, [UInt8](repeating: 0, count: 16 * 1001))])
        XCTAssertEqual(classify(hugeDynamic), bad, "more than 1000 dynamic entries")
        var lying = elf64(type: 3, segments: [(2, 6, dynamicPlain)])
        lying[64 + 32] = 0xFF; lying[64 + 33] = 0xFF  // p_filesz far past the file
        XCTAssertEqual(classify(lying), bad)
        XCTAssertNil(classify(Array("\u{7F}ELF".utf8)), "shorter than an identification: not ELF")
        XCTAssertNil(classify(Array("#!/bin/sh\necho\n".utf8)))
    }

    func testShebangLines() {
        let cases: [(String, String?)] = [
            ("#!/bin/sh\n", "sh"), ("#! /usr/bin/python3.11 -u\n", "python3"), ("#!/usr/bin/env python3\n", "python3"),
            ("#!/usr/bin/env -S FOO=1 perl -w\n", "perl"), ("#!/bin/env -u HOME bash\n", "bash"), ("#!/usr/bin/env\n", nil),
            ("#!/usr/bin/perl5.36\n", "perl5"), ("#!\n", nil), ("echo\n", nil), ("#!/usr/bin/env -- node\n", "node"),
        ]
        for (line, want) in cases { XCTAssertEqual(Shebang.interpreter(Array(line.utf8)), want, line) }
        XCTAssertEqual(Shebang.mimeType(interpreter: "bash"), "text/x-shellscript")
        XCTAssertEqual(Shebang.mimeType(interpreter: "tclsh"), "text/x-tcl")
        XCTAssertEqual(Shebang.mimeType(interpreter: "python3"), "text/x-python")
        XCTAssertEqual(Shebang.mimeType(interpreter: "Rscript"), "text/x-R")
        XCTAssertNil(Shebang.mimeType(interpreter: "awk"), "left to libmagic")
    }

    /// Hostile headers: a real program's first 8 KiB with bytes of its
    /// headers changed at random (a fixed seed: the same 5,000 files every
    /// run), and cut short at random. Every one is classified without a
    /// crash, and reads stay within the file.
    func testMangledHeadersNeverCrash() throws {
        let real = Array(try Data(contentsOf: URL(fileURLWithPath: "/bin/true")).prefix(8192))
        var seed: UInt64 = 0x5EED
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        var classes: Set<String> = []
        for _ in 0..<5000 {
            var bytes = real
            for _ in 0..<(1 + next() % 8) { bytes[next() % 512] = UInt8(truncatingIfNeeded: next()) }
            if next() % 4 == 0 { bytes = Array(bytes.prefix(next() % bytes.count)) }
            let facts = ElfFacts(size: UInt64(bytes.count)) { offset, count in
                XCTAssertLessThanOrEqual(count, 4 << 20, "a bounded read")
                guard offset < UInt64(bytes.count) else { return [] }
                return Array(bytes[Int(offset)..<min(bytes.count, Int(offset) + count)])
            }
            classes.insert(facts?.mimeType { _ in false } ?? "not ELF")
        }
        XCTAssertTrue(classes.contains("application/x-bad-elf"), "\(classes)")
        XCTAssertTrue(classes.contains("not ELF"), "\(classes)")
    }
}
