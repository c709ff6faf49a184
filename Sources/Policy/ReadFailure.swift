#if canImport(Glibc)
import Glibc
#endif

struct ReadFailure: Error { var message: String }
