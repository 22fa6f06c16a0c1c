import Foundation

/// One run of the generator over files on disk: what `mailsync-gen` does, and what the
/// generated-code-is-current test repeats in process.
public struct GenerationJob: Sendable {
    /// `.msrpc` files or directories holding them, relative to `root` (or absolute).
    public var inputs: [String]
    /// Where client parts go, relative to `root`.
    public var clientOutput: String
    /// Where server parts go, relative to `root`.
    public var serverOutput: String
    /// See `Generator.generate(_:clientModule:namespace:)`.
    public var clientModule: String?
    /// See `Generator.generate(_:clientModule:namespace:)`; nil (default) is no namespace.
    public var namespace: String?
    /// Where the Markdown authorization page for all `inputs` goes, relative to `root`
    /// (`docs/authorization.md`); nil writes none.
    public var authorizationDoc: String?
    /// Where the Python module of each schema (`<name>_generated.py`) goes, relative to `root`;
    /// nil (the default) writes none.
    public var pythonOutput: String?
    /// The directory paths are relative to; generated headers name schema files relative to it.
    public var root: String

    public init(
        inputs: [String], clientOutput: String, serverOutput: String, clientModule: String? = nil,
        namespace: String? = nil, authorizationDoc: String? = nil, pythonOutput: String? = nil, root: String
    ) {
        self.namespace = namespace
        self.pythonOutput = pythonOutput
        self.inputs = inputs
        self.clientOutput = clientOutput
        self.serverOutput = serverOutput
        self.clientModule = clientModule
        self.authorizationDoc = authorizationDoc
        self.root = root
    }

    /// A file the run produces: its path relative to `root`, and its contents.
    public struct OutputFile: Sendable, Hashable {
        public var path: String
        public var contents: String
    }

    public struct InputError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The schema files named by `inputs`, directories expanded to their `.msrpc` files by name.
    public func schemaPaths() throws -> [String] {
        var paths: [String] = []
        for input in inputs {
            let relative = Self.normalized(input)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute(relative), isDirectory: &isDirectory) else {
                throw InputError(description: "\(relative): no such file or directory")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: absolute(relative))
                let schemas = names.filter { $0.hasSuffix(".msrpc") }.sorted()
                guard !schemas.isEmpty else { throw InputError(description: "\(relative): no .msrpc files in this directory") }
                paths += schemas.map { "\(relative)/\($0)" }
            } else {
                paths.append(relative)
            }
        }
        return paths
    }

    /// Generates everything in memory.
    ///
    /// - Throws: `SchemaErrors` with the diagnostics of every file, or `InputError` / a file error.
    public func outputFiles() throws -> [OutputFile] {
        var files: [OutputFile] = []
        var sources: [SchemaSource] = []
        var diagnostics: [Diagnostic] = []
        for path in try schemaPaths() {
            let source = SchemaSource(path: path, text: try String(contentsOfFile: absolute(path), encoding: .utf8))
            sources.append(source)
            do {
                let code = try Generator.generate(source, clientModule: clientModule, namespace: namespace)
                files.append(OutputFile(path: Self.join(clientOutput, code.clientFileName), contents: code.clientSource))
                files.append(OutputFile(path: Self.join(serverOutput, code.serverFileName), contents: code.serverSource))
                if let name = code.shortNamesFileName, let contents = code.shortNamesSource {
                    files.append(OutputFile(path: Self.join(serverOutput, name), contents: contents))
                }
                if let pythonOutput {
                    let python = try Generator.generatePython(source)
                    files.append(OutputFile(path: Self.join(pythonOutput, python.fileName), contents: python.source))
                }
            } catch {
                diagnostics += error.diagnostics
            }
        }
        guard diagnostics.isEmpty else { throw SchemaErrors(diagnostics: diagnostics) }
        if let authorizationDoc {
            files.append(OutputFile(path: Self.normalized(authorizationDoc), contents: try Generator.authorizationDoc(sources)))
        }
        return files
    }

    /// Paths (relative to `root`) whose contents on disk differ from `files`, are missing, or are
    /// generated files (`*.generated.swift`, or `*_generated.py` in the Python output directory) that
    /// this run would not produce.
    public func differences(from files: [OutputFile]) -> [String] {
        var differing: [String] = []
        for file in files {
            let onDisk = try? String(contentsOfFile: absolute(file.path), encoding: .utf8)
            if onDisk != file.contents { differing.append(file.path) }
        }
        return differing + leftovers(keeping: files)
    }

    /// Writes `files`, creating output directories, and removes leftover generated files.
    public func write(_ files: [OutputFile]) throws {
        for file in files {
            let url = URL(fileURLWithPath: absolute(file.path))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? String(contentsOf: url, encoding: .utf8)) != file.contents {
                try file.contents.write(to: url, atomically: true, encoding: .utf8)
            }
        }
        for path in leftovers(keeping: files) {
            try FileManager.default.removeItem(atPath: absolute(path))
        }
    }

    private func leftovers(keeping files: [OutputFile]) -> [String] {
        let kept = Set(files.map(\.path))
        var result: [String] = []
        for directory in Set([Self.normalized(clientOutput), Self.normalized(serverOutput)]).sorted() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: absolute(directory))) ?? []
            for name in names.sorted() where name.hasSuffix(".generated.swift") {
                let path = Self.join(directory, name)
                if !kept.contains(path) { result.append(path) }
            }
        }
        if let pythonOutput {
            let directory = Self.normalized(pythonOutput)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: absolute(directory))) ?? []
            for name in names.sorted() where name.hasSuffix("_generated.py") {
                let path = Self.join(directory, name)
                if !kept.contains(path) { result.append(path) }
            }
        }
        return result
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : Self.join(root, path)
    }

    static func normalized(_ path: String) -> String {
        var path = path
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }

    static func join(_ directory: String, _ name: String) -> String {
        let directory = normalized(directory)
        return directory.isEmpty || directory == "." ? name : "\(directory)/\(name)"
    }
}
