import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Blocking work for tests, kept off Swift's cooperative pool.
///
/// The pool has one thread per core (two on our machines and in CI). A test that blocks one of
/// them (waiting for a child process, reading a pipe to its end, joining threads) stalls every
/// other suite running meanwhile, and the server those suites talk to, which runs in the same
/// process. Two such waits at once froze the whole integration run for 30 s in CI and failed a
/// dozen unrelated timing checks. Anything that may block goes through here instead.
public enum OffPool {
    /// Runs `body` on a thread of its own and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Runs `body` (which cannot throw) on a thread of its own.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Runs a `Process` to its end on a thread of its own: its standard output and error
    /// together, and its exit status.
    public static func output(of executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }

    /// Waits for `process` to exit without blocking a pool thread: polls every 20 ms. After
    /// `timeout` it sends SIGKILL and waits up to 5 s more. Returns true when it exited within
    /// `timeout` by itself.
    @discardableResult
    public static func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        let after = ContinuousClock.now + .seconds(5)
        while process.isRunning, ContinuousClock.now < after {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
