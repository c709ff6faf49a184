/// Where a trust database entry came from.
public enum TrustSource: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A file a Debian package installed (/var/lib/dpkg/info/*.list, digests from *.md5sums).
    case dpkg = 1
    /// A file of an installed RPM package (`rpm -qa`).
    case rpm = 2
    /// A line of a trust file (/etc/fanfilter/trust, /etc/fanfilter/trust.d/*).
    case file = 3

    public var description: String {
        switch self {
        case .dpkg: "dpkg"
        case .rpm: "rpm"
        case .file: "file"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = found
    }
}
