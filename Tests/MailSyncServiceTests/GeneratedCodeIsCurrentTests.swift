import Foundation
import SchemaCompiler
import Testing

/// Regenerates every schema in process and fails, naming the file, when the committed output
/// (Swift, the Python client's modules, and `docs/authorization.md`) differs. Fix a failure with `make generate` and commit the
/// result.
@Suite("Generated code is current", .timeLimit(.minutes(5)))
struct GeneratedCodeIsCurrentTests {
    /// The repository root, from this file's path (Tests/MailSyncServiceTests/<file>).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The same jobs as `make generate`.
    static let jobs: [GenerationJob] = [
        GenerationJob(
            inputs: ["Schema"], clientOutput: "Clients/Swift/Sources/MailSyncClient",
            serverOutput: "Sources/MailSyncService/Generated", clientModule: "MailSyncClient", namespace: "MailSync",
            authorizationDoc: "docs/authorization.md", pythonOutput: "Clients/Python/mailsync", root: root),
        GenerationJob(
            inputs: ["Tests/TestSupport/Schema"], clientOutput: "Tests/TestSupport/Generated",
            serverOutput: "Tests/TestSupport/Generated", pythonOutput: "Clients/Python/tests/generated", root: root),
    ]

    @Test("committed generated files match a fresh run", arguments: jobs.map(\.inputs[0]))
    func isCurrent(input: String) throws {
        let job = try #require(Self.jobs.first { $0.inputs == [input] })
        let files = try job.outputFiles()
        #expect(!files.isEmpty)
        for path in job.differences(from: files) {
            Issue.record("\(path) differs from a fresh run of mailsync-gen over \(input); run 'make generate' and commit")
        }
    }

    @Test("docs/authorization.md is among the checked outputs of the product schema")
    func coversAuthorizationDoc() throws {
        let files = try Self.jobs[0].outputFiles()
        let doc = try #require(files.first { $0.path == "docs/authorization.md" }, "the Schema job writes no docs/authorization.md")
        #expect(doc.contents.contains("| `ListMailboxes` |"))
    }

    @Test("the Python client's modules are among the checked outputs, and a changed one is caught")
    func coversPython() throws {
        let files = try Self.jobs[0].outputFiles()
        let module = try #require(files.first { $0.path == "Clients/Python/mailsync/mailsync_generated.py" }, "the Schema job writes no Python module")
        #expect(module.contents.contains("class MailSyncClient:"))
        var edited = files
        edited[try #require(edited.firstIndex(of: module))].contents += "# edited by hand\n"
        #expect(Self.jobs[0].differences(from: edited) == ["Clients/Python/mailsync/mailsync_generated.py"])
        let testFiles = try Self.jobs[1].outputFiles()
        #expect(testFiles.contains { $0.path == "Clients/Python/tests/generated/test_generated.py" })
    }
}
