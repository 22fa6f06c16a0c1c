import Foundation

/// Runs blocking work (SQLite's backup API, zlib, file I/O and fsync) on a thread of its own, so
/// that Swift's cooperative pool never blocks; the calling task only suspends.
///
/// One thread per job: a backup or restore is long (milliseconds to minutes) next to the tens of
/// microseconds a thread costs to start, and the number in flight is bounded by the caller
/// (``TenantBackups/backupAll(_:force:progress:)`` runs at most `parallelism` at once). Work is not
/// cancelled with its task: it runs to the end (or to its own error) and the result is dropped.
enum BlockingThread {
    static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = String(name.prefix(15))  // Linux thread names hold 15 bytes.
            thread.start()
        }
    }
}
