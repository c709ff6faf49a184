/// A script's `#!` line: the interpreter it names, and the MIME type
/// fapolicyd gives a script for that interpreter (`text/x-shellscript`,
/// `text/x-python`, …). `#!/usr/bin/env [options] [NAME=VALUE…] prog` names
/// `prog`.
public enum Shebang {
    /// The interpreter's file name without its minor version
    /// (`/usr/bin/python3.11` → `python3`), from at most the first 255 bytes; nil
    /// when there is no `#!` line or it names nothing.
    public static func interpreter(_ header: [UInt8]) -> String? {
        guard header.count >= 4, header[0] == UInt8(ascii: "#"), header[1] == UInt8(ascii: "!") else { return nil }
        let line = header.prefix(255).dropFirst(2).prefix { $0 != 0 }
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 }
        func isDelimiter(_ c: UInt8) -> Bool { isSpace(c) || c == 10 || c == 13 }
        // The words of the first line.
        var words: [ArraySlice<UInt8>] = []
        var rest = line.prefix { $0 != 10 && $0 != 13 }[...]
        while true {
            rest = rest.drop(while: isSpace)
            guard !rest.isEmpty else { break }
            let word = rest.prefix { !isDelimiter($0) }
            words.append(word)
            rest = rest.dropFirst(word.count)
        }
        guard var program = words.first else { return nil }
        if baseName(program).elementsEqual("env".utf8) {
            // env's options and assignments come before the command.
            var i = 1, optionsEnded = false
            while i < words.count {
                let w = words[i]
                let assignment = w.firstIndex(of: UInt8(ascii: "=")).map { $0 > w.startIndex } ?? false
                if !optionsEnded, w.elementsEqual("--".utf8) {
                    optionsEnded = true
                } else if !optionsEnded, w.first == UInt8(ascii: "-"), !assignment {
                    if ["-u", "-C", "--unset", "--chdir"].contains(where: { w.elementsEqual($0.utf8) }) { i += 1 }
                } else if !assignment {
                    break
                }
                i += 1
            }
            guard i < words.count else { return nil }
            program = words[i]
        }
        // Keep a version's first digit, drop what follows a '.' or a second digit: python3.11 → python3.
        var name: [UInt8] = []
        for c in baseName(program) {
            let digit = c >= 48 && c <= 57
            if c == UInt8(ascii: ".") || (digit && (name.last.map { $0 >= 48 && $0 <= 57 } ?? false)) { break }
            name.append(c)
        }
        guard !name.isEmpty, name.count < 64 else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    /// The MIME type of a script run by `interpreter`, or nil for one fapolicyd does not name.
    public static func mimeType(interpreter: String) -> String? {
        let i = interpreter
        if i.hasSuffix("sh") {
            if i.hasSuffix("wish") || i.hasSuffix("tclsh") || i.hasSuffix("jimsh") { return "text/x-tcl" }
            return "text/x-shellscript"
        }
        let prefixes: [(String, String)] = [
            ("python", "text/x-python"), ("perl", "text/x-perl"), ("lua", "text/x-lua"), ("node", "application/javascript"),
            ("stap", "text/x-systemtap"), ("php", "text/x-php"), ("Rscript", "text/x-R"), ("ocamlrun", "application/x-bytecode.ocaml"),
        ]
        if let found = prefixes.first(where: { i.hasPrefix($0.0) }) { return found.1 }
        if i == "r" || i == "R" { return "text/x-R" }
        return nil
    }

    private static func baseName(_ word: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let slash = word.lastIndex(of: UInt8(ascii: "/")) else { return word }
        return word[(slash + 1)...]
    }
}
