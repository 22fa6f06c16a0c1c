/// A position in a schema file: 1-based line and column (columns count Unicode scalars).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// One error found in a schema, printed like a compiler's: `file:line:col: error: message`.
///
/// The compiler collects every diagnostic it can find in one run instead of stopping at the first.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// The schema file's path as it was given to the compiler.
    public var file: String
    public var location: SourceLocation
    /// What is wrong and, where it is not obvious, how to fix it.
    public var message: String

    public init(file: String, location: SourceLocation, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String { "\(file):\(location.line):\(location.column): error: \(message)" }
}

/// Collects diagnostics for one file.
struct DiagnosticSink {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    mutating func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(file: file, location: location, message: message))
    }
}
