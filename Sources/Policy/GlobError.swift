/// Why a glob pattern did not compile, and where in it.
public struct GlobError: Error, Equatable {
    public var offset: Int
    public var message: String
}
