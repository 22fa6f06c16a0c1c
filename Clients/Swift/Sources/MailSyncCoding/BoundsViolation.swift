/// A decoded message breaks a bound its schema declares (`max_length`, `max_count`, `range`,
/// `known_values`, `interval`; see `Schema/README.md`, "Bounds").
///
/// `path` names the field from the top-level message down, for example `kinds`,
/// `administrator.name` or `opportunities[3].name`; `problem` says what is wrong and what is
/// allowed. The server answers such a request with `invalid argument` and this text.
public struct BoundsViolation: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field, from the top-level message down (`a.b[3].c`).
    public var path: String
    /// What is wrong and the bound, for example `has 1000001 elements; at most 50`.
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// "kinds has 1000001 elements; at most 50"
    public var description: String { "\(path) \(problem)" }

    /// The same violation seen from the message that holds this one in `field`.
    public func nested(in field: String) -> BoundsViolation {
        BoundsViolation(path: field + "." + path, problem: problem)
    }
}
