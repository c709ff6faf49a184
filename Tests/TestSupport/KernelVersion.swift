import Glibc

/// The running kernel's major and minor version, from uname(2) ("6.12.117+deb13-amd64" → (6, 12)).
public func kernelVersion() -> (Int, Int) {
    var name = utsname()
    uname(&name)
    let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    return (numbers.first ?? 0, numbers.count > 1 ? numbers[1] : 0)
}
