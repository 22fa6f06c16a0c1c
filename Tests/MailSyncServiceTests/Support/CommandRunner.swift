import Foundation
import TestSupport

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

    /// Spawned with `posix_spawn` (``ChildProcess``), not Foundation's `Process`: its `run()`
    /// crashed (SIGSEGV in a copy while listing descriptors) in a clean-clone run, with a thousand
    /// descriptors open and changing in the test process. Output goes through files in a
    /// directory of its own; a command still running after 120 s is killed.
    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String, errors: String) {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MAILSYNC_") }
        for (key, value) in environment { env[key] = value }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var child = try ChildProcess(
            executable: binary.path, arguments: arguments, environment: env, output: directory + "/out", errors: directory + "/err")
        let deadline = ContinuousClock.now + .seconds(120)
        while !child.exited() {
            if ContinuousClock.now >= deadline {
                child.signal(SIGKILL, group: true)
                _ = child.exited()
                break
            }
            usleep(2_000)
        }
        let raw = child.status ?? 0
        // Exit status as a shell reports it: the code, or 128 + the signal that ended it.
        let status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        let output = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/out"))) ?? Data()
        let errors = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/err"))) ?? Data()
        return (status, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }
}
