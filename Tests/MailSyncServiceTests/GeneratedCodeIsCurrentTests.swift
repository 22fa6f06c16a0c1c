import Foundation
import SchemaCompiler
import Testing

/// Regenerates every schema in process and fails, naming the file, when the committed output
/// (Swift, and `docs/authorization.md`) differs. Fix a failure with `make generate` and commit the
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
            authorizationDoc: "docs/authorization.md", root: root),
        GenerationJob(
            inputs: ["Tests/TestSupport/Schema"], clientOutput: "Tests/TestSupport/Generated",
            serverOutput: "Tests/TestSupport/Generated", root: root),
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
}
