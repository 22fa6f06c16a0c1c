import Foundation

/// Runs the real `mailsync` executable for CLI tests.
enum CommandRunner {
    /// The `mailsync` built beside this test bundle (whatever the scratch path), else the default.
    static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mailsync")
        return FileManager.default.isExecutableFile(atPath: beside.path) ? beside : KeysCommandTests.binary
    }()

    /// Runs the command on a thread of its own: waiting for the child blocks, and the server it
    /// calls runs in this process, on the cooperative pool this must not hold (with two cores, two
    /// such waits would starve the server until the call's deadline). MAILSYNC_* variables of the
    /// test process are not passed on; only those in `environment` are.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String, errors: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(arguments, environment: environment) }) }.start()
        }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MAILSYNC_") }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }
}
