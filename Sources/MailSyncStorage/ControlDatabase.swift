import Logging

/// The control database file, `<data directory>/control.sqlite`: opened (or created) on start,
/// stamped ``FileStamp/control`` and migrated with the caller's migrations.
///
/// Only the file handling lives here; the tables (tenants, plans, API keys, backups) are the
/// caller's migrations. Work runs on one dedicated ``DatabaseExecutor`` thread; the same
/// settings, checks and failure behaviour as a tenant file apply (a tenant file or a newer file
/// in its place is refused). Close it on shutdown.
public final class ControlDatabase: Sendable {
    public let path: String
    /// The schema version after opening.
    public let schemaVersion: Int32
    private let executor: DatabaseExecutor

    private init(path: String, schemaVersion: Int32, executor: DatabaseExecutor) {
        self.path = path
        self.schemaVersion = schemaVersion
        self.executor = executor
    }

    /// Opens the control database, creating the data directory (0700) and the file if missing.
    public static func open(
        dataDirectory: DataDirectory,
        migrations: [Migration],
        options: SQLiteConnection.Options = .init(),
        logger: Logger = Logger(label: "mailsync.storage")
    ) async throws -> ControlDatabase {
        let migrator = try Migrator(migrations)
        let path = dataDirectory.controlDatabasePath
        let executor = DatabaseExecutor(label: "db-control")
        do {
            let (from, to) = try await executor.open {
                try dataDirectory.createRoot()
                let opened = try DatabaseFile.openOrCreate(path: path, stamp: .control, migrator: migrator, options: options)
                return (opened.connection, (opened.migratedFrom, opened.version))
            }
            if from != to {
                logger.info("migrated control database", metadata: ["from": "\(from)", "to": "\(to)"])
            }
            return ControlDatabase(path: path, schemaVersion: to, executor: executor)
        } catch {
            await executor.close()
            throw error
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction; rolls back on throw.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await executor.write(body)
    }

    /// Runs `body` with no transaction around it.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await executor.read(body)
    }

    /// Lets queued work finish and closes the file. Idempotent.
    public func close() async {
        await executor.close()
    }
}
