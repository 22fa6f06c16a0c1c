import Foundation

/// The peer: the `sqlite3` command-line tool's `.backup` into a temporary file, then `gzip -1`
/// of that file, two processes one after the other (`.backup` cannot write to a pipe):
///
///     sqlite3 SRC ".backup TMP" && gzip -1 -c TMP > OUT          (plain)
///     sqlite3 SRC "BEGIN" "SELECT count(*) FROM sqlite_schema" ".backup TMP" "COMMIT" && gzip -1 -c TMP > OUT
///                                                              (held: one read transaction, as ours)
///
/// The CLI's `.backup` steps 100 pages at a time and takes a fresh read lock per step, so a commit
/// by another connection between two steps restarts it from page 1; holding a read transaction
/// around it (the second form) pins one snapshot, which is what `OnlineSnapshot` does.
struct PeerResult {
    var backup: Duration
    var gzip: Duration
    var snapshotBytes: UInt64
    var compressedBytes: UInt64
    var timedOut: Bool
    var total: Duration { backup + gzip }
}

enum Peer {
    static func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func command(source: String, snapshot: String, output: String, held: Bool) -> String {
        let sqlite = held
            ? "sqlite3 \(source) \"BEGIN\" \"SELECT count(*) FROM sqlite_schema\" \".backup \(snapshot)\" \"COMMIT\""
            : "sqlite3 \(source) \".backup \(snapshot)\""
        return sqlite + " && gzip -1 -c \(snapshot) > \(output)"
    }

    /// Runs one peer backup; the snapshot file is left for the caller (quick_check timing), the
    /// compressed output too. `timeout` stops a `.backup` that keeps restarting.
    static func run(source: String, snapshot: String, output: String, held: Bool, timeout: Duration) throws -> PeerResult {
        try? FileManager.default.removeItem(atPath: snapshot)
        try? FileManager.default.removeItem(atPath: output)
        let arguments = held
            ? [source, "BEGIN", "SELECT count(*) FROM sqlite_schema", ".backup \(shellQuote(snapshot))", "COMMIT"]
            : [source, ".backup \(shellQuote(snapshot))"]
        let clock = ContinuousClock()
        let start = clock.now
        let (status, timedOut) = try runProcess("/usr/bin/sqlite3", arguments, timeout: timeout)
        let backup = clock.now - start
        if timedOut {
            return PeerResult(backup: backup, gzip: .zero, snapshotBytes: fileSize(snapshot), compressedBytes: 0, timedOut: true)
        }
        guard status == 0 else { throw PeerError("sqlite3 .backup exited with status \(status)") }
        let gzipStart = clock.now
        let (gzipStatus, _) = try runProcess("/bin/sh", ["-c", "gzip -1 -c \(shellQuote(snapshot)) > \(shellQuote(output))"], timeout: .seconds(3600))
        let gzip = clock.now - gzipStart
        guard gzipStatus == 0 else { throw PeerError("gzip exited with status \(gzipStatus)") }
        return PeerResult(backup: backup, gzip: gzip, snapshotBytes: fileSize(snapshot), compressedBytes: fileSize(output), timedOut: false)
    }

    static func runProcess(_ executable: String, _ arguments: [String], timeout: Duration) throws -> (Int32, Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                // The CLI ignores SIGTERM while it copies.
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return (process.terminationStatus, true)
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        return (process.terminationStatus, false)
    }
}

struct PeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
