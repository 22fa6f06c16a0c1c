/// One schema file's text and the path it is known by.
public struct SchemaSource: Sendable, Hashable {
    /// The path shown in diagnostics and generated headers, e.g. `Schema/mailsync.msrpc`.
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }

    /// The file name without directory and `.msrpc`, which names the generated files.
    public var baseName: String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".msrpc") { name.removeLast(".msrpc".count) }
        return name
    }
}

/// The Swift generated from one schema file.
public struct GeneratedCode: Sendable, Hashable {
    /// `<base>.generated.swift`: messages, enums, method descriptors, client stubs.
    public var clientFileName: String
    public var clientSource: String
    /// `<base>+Server.generated.swift`: handler protocols and method tables.
    public var serverFileName: String
    public var serverSource: String
    /// With a namespace, `<base>+ShortNames.generated.swift` (beside the server part): the short
    /// names the server code uses. Nil without a namespace.
    public var shortNamesFileName: String?
    public var shortNamesSource: String?
}

/// The schema had errors; nothing was generated.
public struct SchemaErrors: Error, Sendable, CustomStringConvertible {
    /// Every error found, in file order.
    public var diagnostics: [Diagnostic]

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// The compiler's entry points: parse and check a schema, and generate Swift from it.
public enum Generator {
    /// Parses without checking: syntax errors only.
    public static func parse(_ source: SchemaSource) -> (file: SchemaFile, diagnostics: [Diagnostic]) {
        var sink = DiagnosticSink(file: source.path)
        var lexer = Lexer(source.text)
        let tokens = lexer.tokenize(into: &sink)
        var parser = Parser(tokens: tokens, sink: sink)
        let (file, parsed) = parser.parseFile(path: source.path)
        return (file, parsed.diagnostics)
    }

    /// Parses and checks; an empty `diagnostics` means the schema is valid.
    public static func check(_ source: SchemaSource) -> (file: SchemaFile, diagnostics: [Diagnostic]) {
        let (file, syntax) = parse(source)
        var checker = Checker(file: file, sink: DiagnosticSink(file: source.path))
        let semantic = checker.check().diagnostics
        let all = (syntax + semantic).enumerated().sorted {
            ($0.element.location.line, $0.element.location.column, $0.offset)
                < ($1.element.location.line, $1.element.location.column, $1.offset)
        }
        return (file, all.map(\.element))
    }

    /// Generates the client and server parts of one schema file.
    ///
    /// - Parameters:
    ///   - clientModule: when set, the server part imports this module (where the client part is
    ///     compiled); leave nil when both parts are in one module.
    ///   - namespace: when set, the messages and enums are declared inside this type (an enum; the
    ///     service's own when it has that name), and a third file gives the server's module their
    ///     short names. Nil (default) declares them at the top level.
    /// - Throws: `SchemaErrors` listing every problem in the schema.
    public static func generate(
        _ source: SchemaSource, clientModule: String? = nil, namespace: String? = nil
    ) throws(SchemaErrors) -> GeneratedCode {
        let (file, diagnostics) = check(source)
        guard diagnostics.isEmpty else { throw SchemaErrors(diagnostics: diagnostics) }
        let emitter = SwiftEmitter(file: file, sourcePath: source.path, clientModule: clientModule, namespace: namespace)
        let shortNames = emitter.shortNamesSource()
        return GeneratedCode(
            clientFileName: "\(source.baseName).generated.swift", clientSource: emitter.clientSource(),
            serverFileName: "\(source.baseName)+Server.generated.swift", serverSource: emitter.serverSource(),
            shortNamesFileName: shortNames.map { _ in "\(source.baseName)+ShortNames.generated.swift" },
            shortNamesSource: shortNames)
    }

    /// The Python module of one schema file, `<base>_generated.py`, for the client in
    /// `Clients/Python` (messages, enums and one client class per service).
    ///
    /// - Throws: `SchemaErrors` listing every problem in the schema.
    public static func generatePython(_ source: SchemaSource) throws(SchemaErrors) -> (fileName: String, source: String) {
        let (file, diagnostics) = check(source)
        guard diagnostics.isEmpty else { throw SchemaErrors(diagnostics: diagnostics) }
        return ("\(source.baseName)_generated.py", PythonEmitter(file: file, sourcePath: source.path).source())
    }

    /// The Markdown authorization page (`docs/authorization.md`) for one or more schema files:
    /// how roles are enforced, then a table per service of who may call each rpc.
    ///
    /// - Throws: `SchemaErrors` listing every problem in every file.
    public static func authorizationDoc(_ sources: [SchemaSource]) throws(SchemaErrors) -> String {
        var files: [SchemaFile] = []
        var diagnostics: [Diagnostic] = []
        for source in sources {
            let (file, errors) = check(source)
            files.append(file)
            diagnostics += errors
        }
        guard diagnostics.isEmpty else { throw SchemaErrors(diagnostics: diagnostics) }
        return AuthorizationDocEmitter(files: files).markdown()
    }
}
