import Foundation

/// Runs one database file's SQLite work on a thread of its own, off Swift's cooperative pool.
///
/// One executor owns one ``SQLiteConnection`` and one thread; closures run one at a time in the
/// order they were submitted, so there is exactly one writer per file and no `SQLITE_BUSY` between
/// callers of the same executor. Reads share the thread: per-tenant work is small and a second
/// read connection would add three file descriptors per tenant (WAL) for little gain.
///
/// Why a thread per open file rather than a fixed pool with per-tenant queues: the pool of open
/// files is already bounded (``TenantPool``'s capacity, default 100), so the thread count is too;
/// an idle thread costs a little address space and no CPU; a blocking call (a busy timeout, a
/// slow fsync) stalls only its own tenant; and the thread-confinement of the connection is plain
/// to see. Starting a thread costs tens of microseconds, small beside opening the file.
///
/// Awaiting ``read(_:)`` or ``write(_:)`` suspends the task (a continuation); the cooperative pool
/// never blocks. Work already queued is not cancelled with its task: it is short, and stopping it
/// half-way would only waste it. ``close()`` lets queued work finish, then closes the connection
/// and ends the thread; work submitted after that fails with ``StorageError/Kind/closed``.
/// An executor must be closed: its thread lives until then.
public final class DatabaseExecutor: @unchecked Sendable {
    /// Thread-confined: only the executor's thread touches it.
    final class Slot {
        var connection: SQLiteConnection?
    }

    typealias Job = @Sendable (Slot) -> Void

    private enum State {
        case running
        case closing
        case closed
    }

    /// A name for the thread (shown by debuggers and `top -H`).
    public let label: String
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [Job] = []
    private var state = State.running
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private var closeCallbacks: [@Sendable () -> Void] = []

    /// Starts the thread. It has no connection until ``open(_:)`` gives it one.
    public init(label: String) {
        self.label = label
        let thread = Thread { [self] in self.runLoop() }
        thread.name = String(label.prefix(15))  // Linux thread names hold 15 bytes.
        thread.start()
    }

    /// Opens the connection on the executor's thread. `body` returns the connection and anything
    /// the caller wants to know about the open (e.g. the migrated versions). On failure the
    /// executor has no connection; close it.
    func open<T: Sendable>(_ body: @escaping @Sendable () throws -> (SQLiteConnection, T)) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(continuation) { slot in
                do {
                    let (connection, info) = try body()
                    slot.connection = connection
                    continuation.resume(returning: info)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `body` inside one `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back
    /// if it throws. Do not begin or commit transactions inside `body`.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await perform { db in try db.transaction(immediate: true) { try body(db) } }
    }

    /// Runs `body` with the connection and no transaction around it (each statement is its own).
    /// For several reads that must see one snapshot, call `db.transaction(immediate: false)`.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await perform(body)
    }

    private func perform<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(continuation) { [label] slot in
                guard let connection = slot.connection else {
                    continuation.resume(throwing: StorageError(kind: .closed, message: "\(label): the database is not open"))
                    return
                }
                do {
                    continuation.resume(returning: try body(connection))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func submit<T>(_ continuation: CheckedContinuation<T, any Error>, _ job: @escaping Job) {
        condition.lock()
        guard case .running = state else {
            condition.unlock()
            continuation.resume(throwing: StorageError(kind: .closed, message: "\(label): the database was closed"))
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets queued work finish, closes the connection and ends the thread. Returns when done.
    /// Idempotent.
    public func close() async {
        startClosing()
        await waitUntilClosed()
    }

    /// Starts ``close()`` without waiting for it (eviction uses this). `then` runs on the
    /// executor's thread once it is closed (at once, on this thread, if it already is).
    public func startClosing(then: (@Sendable () -> Void)? = nil) {
        condition.lock()
        if case .running = state { state = .closing }
        if let then {
            if case .closed = state {
                condition.unlock()
                then()
                return
            }
            closeCallbacks.append(then)
        }
        condition.signal()
        condition.unlock()
    }

    /// Returns once the executor is closed (after ``startClosing()`` or ``close()``).
    public func waitUntilClosed() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            if case .closed = state {
                condition.unlock()
                continuation.resume()
            } else {
                closeWaiters.append(continuation)
                condition.unlock()
            }
        }
    }

    private func runLoop() {
        let slot = Slot()
        while true {
            condition.lock()
            while jobs.isEmpty, case .running = state { condition.wait() }
            if jobs.isEmpty {  // closing, and everything queued has run
                condition.unlock()
                break
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job(slot) }
        }
        slot.connection?.close()
        slot.connection = nil
        condition.lock()
        state = .closed
        let waiters = closeWaiters
        let callbacks = closeCallbacks
        closeWaiters = []
        closeCallbacks = []
        condition.unlock()
        for callback in callbacks { callback() }
        for waiter in waiters { waiter.resume() }
    }
}
