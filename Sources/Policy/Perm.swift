/// Which accesses a rule covers (`perm=`).
public enum Perm: String, Sendable, Equatable, CaseIterable {
    case open, execute, any

    public func covers(_ access: Access) -> Bool {
        switch (self, access) {
        case (.any, _), (.open, .open), (.execute, .execute): true
        default: false
        }
    }

    /// Whether every access `other` covers, this covers too.
    func covers(_ other: Perm) -> Bool { self == .any || self == other }
}
