import Foundation
import TestSupport
import Testing

/// One SeaweedFS for a whole suite: started before its first test, stopped after its last (a
/// suite trait, so its tests share it; each test works under key prefixes of its own).
struct SeaweedFSScope: SuiteTrait, TestScoping {
    @TaskLocal static var current: SeaweedFSServer?

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await SeaweedFSServer.withServer { server in
            try await Self.$current.withValue(server) { try await function() }
        }
    }

    /// The suite's server; fails the test when the suite did not start one.
    static func server() throws -> SeaweedFSServer {
        try #require(current, "the suite needs the .seaweedFS trait")
    }
}

extension Trait where Self == SeaweedFSScope {
    /// Runs the suite with a SeaweedFS of its own (``SeaweedFSScope/server()``).
    static var seaweedFS: Self { SeaweedFSScope() }
}
