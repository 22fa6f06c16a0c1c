import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A test server written as a Python script of our own (aiosmtpd, the OAuth token endpoint):
/// started with a JSON config, ready once it creates its `ready` file, stopped with SIGTERM and,
/// after five seconds, SIGKILL to its whole process group.
extension ChildProcess {
    /// The interpreter the Python test servers run under (Debian's, with its packages).
    static let python = "/usr/bin/python3"

    /// Writes `config` to `<directory>/config.json`, runs `python3 -B <directory>/<script>` on it
    /// (log to `logPath`) and waits until `<directory>/ready` exists.
    ///
    /// - Throws: `makeError` with the log when the process exits first or `timeout` passes (it is
    ///   stopped then).
    static func startPythonServer(
        script: String, config: [String: Any], directory: String, logPath: String, port: Int, timeout: Duration,
        makeError: (String) -> any Error
    ) async throws -> ChildProcess {
        let configPath = directory + "/config.json"
        let ready = directory + "/ready"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        try? FileManager.default.removeItem(atPath: ready)
        var process = try ChildProcess(
            executable: python, arguments: ["-B", directory + "/" + script, configPath],
            environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], output: logPath)
        let log = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + timeout
        while true {
            if process.exited() {
                throw makeError("\(script) exited (wait status \(process.status ?? -1)) before listening\n--- \(logPath)\n\(log())")
            }
            if FileManager.default.fileExists(atPath: ready) { return process }
            if ContinuousClock.now >= deadline {
                await process.stopGracefully()
                throw makeError("\(script) did not listen on 127.0.0.1:\(port) within \(timeout)\n--- \(logPath)\n\(log())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM, up to five seconds to exit, then SIGKILL to the group and five more seconds.
    mutating func stopGracefully() async {
        signal(SIGTERM)
        if !(await waitForExit(timeout: .seconds(5))) {
            signal(SIGKILL, group: true)
            await waitForExit(timeout: .seconds(5))
        }
    }
}
