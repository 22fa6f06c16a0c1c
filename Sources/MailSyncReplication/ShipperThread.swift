import Foundation

/// One thread that runs a shipper's blocking work (SQLite calls, reading the `-wal` file) in
/// submission order, off Swift's cooperative pool; awaiting ``run(_:)`` only suspends the task.
///
/// The shipper's SQLite connections live on this thread alone (they are opened `NOMUTEX`).
/// ``stop()`` lets queued work finish, then ends the thread; work submitted after that fails
/// with ``ReplicationError/Kind/busy``. Work is not cancelled with its task.
final class ShipperThread: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [() -> Void] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = String(name.prefix(15))  // Linux thread names hold 15 bytes.
        thread.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            guard !stopping else {
                condition.unlock()
                continuation.resume(throwing: ReplicationError(.busy, "the WAL shipper was closed"))
                return
            }
            jobs.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }

    /// Ends the thread once the queued work has run. Idempotent.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty, !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll()
            condition.unlock()
            for job in batch { job() }
        }
    }
}
