/// A lexing problem at a 1-based column.
struct LexProblem: Error, Equatable {
    var column: Int
    var message: String
}
