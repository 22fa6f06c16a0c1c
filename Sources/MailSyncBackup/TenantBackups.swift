import Foundation
public import MailSyncStorage
import Synchronization

/// Backups of tenant databases: take (``backup(_:force:)``, ``backupAll(_:force:progress:)``), list
/// (``list(_:)``), verify (``verify(_:)``) and restore (``restore(_:into:)``, in
/// `TenantBackups+Restore.swift`).
///
/// Layout, under ``directory`` (default `<data directory>/backups`, mode 0700):
/// ```
/// <tenant-uuid>/<stamp>.sqlite.z   the database, zlib-compressed
/// <tenant-uuid>/<stamp>.json       its manifest (BackupManifest); written last
/// ```
/// A backup is a consistent snapshot (``OnlineSnapshot``: SQLite's backup API over a separate
/// read-only connection, safe while the server writes), checked with `quick_check`, compressed
/// in parallel blocks into one zlib stream (``ParallelZlib``) and written atomically: temporary files, fsync, rename, fsync of the directory; the
/// manifest is the commit point. A crash leaves temporary files (dot-names), cleaned up by the
/// next backup of that tenant. While it runs, a backup needs free space for one uncompressed copy
/// of the tenant plus the compressed file.
///
/// One backup or restore per tenant at a time (another one throws `.busy`); different tenants run
/// in parallel. All blocking work runs on threads of its own (``BlockingThread``). Nothing here
/// deletes old backups.
public final class TenantBackups: Sendable {
    public struct Configuration: Sendable {
        /// Where backups live. Default `nil`: `<data directory>/backups`.
        public var directory: String?
        /// Tenants backed up at once by ``backupAll(_:force:progress:)``. Default 2, at least 1.
        public var parallelism = 2
        /// zlib level, 1 (fastest, the default) … 9 (smallest). SQLite pages compress well at 1.
        public var compressionLevel: Int32 = 1
        /// Threads deflating one backup (``ParallelZlib``). Default: the machine's active cores; at
        /// least 1. They are threads of their own, started per backup, so `parallelism` backups
        /// use up to `parallelism × compressionThreads` of them.
        public var compressionThreads = ProcessInfo.processInfo.activeProcessorCount
        /// Store the pages deflate cannot shrink (already-deflated mail bodies, by their byte
        /// entropy: ``PageEntropy``) instead of deflating them again. Default true: about 4x less
        /// deflate work on a tenant of mail for a ratio a few percent lower.
        public var storesIncompressiblePages = true
        /// Pages copied per backup step. Default 1,024 (4 MiB with 4 KiB pages).
        public var pagesPerStep: Int32 = 1024
        /// Pause between backup steps, to leave the disk to the server. Default none.
        public var pauseBetweenSteps: Duration = .zero

        public init() {}
    }

    /// What ``backup(_:force:)`` did.
    public enum Outcome: Sendable, Equatable {
        /// A new backup was written.
        case created(BackupManifest)
        /// The tenant had not changed since its latest backup, which is returned.
        case skipped(BackupManifest)

        public var manifest: BackupManifest {
            switch self {
            case .created(let manifest), .skipped(let manifest): manifest
            }
        }

        public var wasSkipped: Bool {
            if case .skipped = self { return true }
            return false
        }
    }

    public let dataDirectory: DataDirectory
    /// The backup directory, without a trailing slash.
    public let directory: String
    let pool: TenantPool
    let configuration: Configuration
    let now: @Sendable () -> Int64
    private let running = Mutex<Set<TenantID>>([])

    /// - Parameters:
    ///   - pool: the server's tenant pool: where the files are, their schema version, and how a
    ///     restore takes a tenant offline.
    ///   - now: the time in microseconds since 1970, for backup names. Default: the system clock.
    public init(pool: TenantPool, configuration: Configuration = Configuration(), now: (@Sendable () -> Int64)? = nil) {
        self.pool = pool
        self.dataDirectory = pool.dataDirectory
        self.configuration = configuration
        var directory = configuration.directory ?? (pool.dataDirectory.root + "/backups")
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        self.directory = directory
        self.now = now ?? { Int64(Date().timeIntervalSince1970 * 1_000_000) }
    }

    // MARK: Paths

    func tenantDirectory(_ tenant: TenantID) -> String { directory + "/" + tenant.pathComponent }
    func dataPath(_ id: BackupID) -> String { tenantDirectory(id.tenant) + "/" + id.stamp + ".sqlite.z" }
    func manifestPath(_ id: BackupID) -> String { tenantDirectory(id.tenant) + "/" + id.stamp + ".json" }
    static let temporarySuffixes = [".snapshot.tmp", ".sqlite.z.tmp", ".json.tmp"]

    // MARK: Backup

    /// Backs up one tenant, unless it is unchanged since its latest backup (then that one is
    /// returned as `.skipped`) or `force` is set.
    ///
    /// Unchanged means: its file and `-wal` have the size, time and inode they had when the latest
    /// backup began; or, after a change that changed no data, the new snapshot is byte for byte
    /// that backup's database (then nothing is written).
    ///
    /// Throws ``BackupError``: `.notFound` (no database file), `.busy` (a backup or restore of it
    /// is running), `.damaged` (the live database fails `quick_check`: nothing is written),
    /// `.fileSystem` (disk full, permissions; temporary files are removed).
    public func backup(_ tenant: TenantID, force: Bool = false) async throws -> Outcome {
        try await exclusively(tenant) {
            try await BlockingThread.run("backup") { [self] in try backupNow(tenant, force: force) }
        }
    }

    /// Backs up `tenants` (every tenant on disk when `nil`), at most `parallelism` at once.
    /// `progress` is called after each one (from any thread) with how many are done of how many.
    /// Returns each tenant's outcome or error, in the order given.
    public func backupAll(
        _ tenants: [TenantID]? = nil, force: Bool = false,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) async throws -> [(TenantID, Result<Outcome, BackupError>)] {
        let directory = dataDirectory
        let list: [TenantID]
        if let tenants {
            list = tenants
        } else {
            list = try await BlockingThread.run("backup-list") { try directory.tenantIDsOnDisk() }
        }
        let limit = max(1, configuration.parallelism)
        var results = [Result<Outcome, BackupError>?](repeating: nil, count: list.count)
        let work: @Sendable (Int) -> @Sendable () async -> (Int, Result<Outcome, BackupError>) = { index in
            { [self] in
                do {
                    return (index, .success(try await backup(list[index], force: force)))
                } catch let error as BackupError {
                    return (index, .failure(error))
                } catch {
                    return (index, .failure(BackupError(.fileSystem, "\(error)")))
                }
            }
        }
        await withTaskGroup(of: (Int, Result<Outcome, BackupError>).self) { group in
            var next = 0
            var done = 0
            while next < list.count, next < limit {
                group.addTask(operation: work(next))
                next += 1
            }
            while let (index, result) = await group.next() {
                results[index] = result
                done += 1
                progress?(done, list.count)
                if next < list.count {
                    group.addTask(operation: work(next))
                    next += 1
                }
            }
        }
        return zip(list, results).map { ($0, $1!) }
    }

    /// The blocking body of ``backup(_:force:)``; the caller holds the tenant.
    ///
    /// `file`: back up this database file of the tenant instead of its live one (a restore's
    /// replaced state, set aside); the unchanged-file shortcut does not apply to it, the
    /// same-content one does.
    func backupNow(_ tenant: TenantID, force: Bool, file: String? = nil) throws -> Outcome {
        let source = file ?? dataDirectory.tenantDatabasePath(tenant)
        guard FileSystem.exists(source) else {
            throw BackupError(.notFound, "company \(tenant) has no database file (\(source)); nothing to back up")
        }
        let folder = tenantDirectory(tenant)
        try FileSystem.makeDirectories(folder)
        try removeLeftovers(in: folder)
        let marker = SourceMarker(database: FileSystem.mark(source), wal: FileSystem.mark(source + "-wal"))
        let latest = try manifests(of: tenant).first
        if !force, file == nil, let latest, latest.source == marker { return .skipped(latest) }

        var micros = now()
        if let latest, micros <= latest.createdAtMicroseconds { micros = latest.createdAtMicroseconds + 1 }
        var id = BackupID(tenant: tenant, microseconds: micros)
        while FileSystem.exists(manifestPath(id)) || FileSystem.exists(dataPath(id)) {
            micros += 1
            id = BackupID(tenant: tenant, microseconds: micros)
        }
        let snapshot = folder + "/." + id.stamp + ".snapshot.tmp"
        let packed = folder + "/." + id.stamp + ".sqlite.z.tmp"
        defer {
            try? FileSystem.remove(snapshot)
            try? FileSystem.remove(snapshot + "-journal")
            try? FileSystem.remove(packed)
        }
        var copier = OnlineSnapshot()
        copier.pagesPerStep = configuration.pagesPerStep
        copier.pause = configuration.pauseBetweenSteps
        try copier.copy(from: source, to: snapshot)
        let version: Int32
        do {
            version = try SnapshotCheck.check(snapshot, tenant: tenant, depth: .quick, name: "the snapshot of company \(tenant)")
        } catch let error as BackupError {
            throw BackupError(error.kind == .wrongTenant ? .wrongTenant : .damaged,
                              "company \(tenant)'s live database cannot be backed up: \(error.message.replacingOccurrences(of: "; use another backup", with: "")); restore it from an earlier backup")
        }
        let digests = try ParallelZlib.compress(
            input: snapshot, output: packed, level: configuration.compressionLevel,
            threads: configuration.compressionThreads, storesIncompressiblePages: configuration.storesIncompressiblePages)
        if !force, let latest, latest.databaseSHA256 == digests.uncompressedSHA256 { return .skipped(latest) }

        let manifest = BackupManifest(
            format: BackupManifest.currentFormat, id: id.description, tenantID: tenant.pathComponent, schemaVersion: version,
            createdAtMicroseconds: micros, createdAt: Self.iso8601(micros),
            uncompressedSize: digests.uncompressedSize, compressedSize: digests.compressedSize,
            sha256: digests.compressedSHA256, databaseSHA256: digests.uncompressedSHA256, compression: "zlib", source: marker)
        try FileSystem.rename(packed, dataPath(id))
        try FileSystem.writeAtomically(try manifest.encoded(), to: manifestPath(id), temporary: folder + "/." + id.stamp + ".json.tmp")
        return .created(manifest)
    }

    /// Removes what a crashed backup left: temporary files, and data files with no manifest.
    private func removeLeftovers(in folder: String) throws {
        let names = try FileSystem.names(in: folder)
        let manifests = Set(names.filter { $0.hasSuffix(".json") }.map { $0.dropLast(5) })
        for name in names {
            let temporary = name.hasPrefix(".") && Self.temporarySuffixes.contains { name.hasSuffix($0) || name.hasSuffix($0 + "-journal") }
            let orphan = name.hasSuffix(".sqlite.z") && !manifests.contains(name.dropLast(9))
            if temporary || orphan { try FileSystem.remove(folder + "/" + name) }
        }
    }

    // MARK: List

    /// Backups of one tenant, or of every tenant when `nil`, newest first. Files that are not a
    /// backup's, and manifests that cannot be read, are left out (``verify(_:)`` reports those).
    public func list(_ tenant: TenantID? = nil) async throws -> [BackupManifest] {
        try await BlockingThread.run("backup-list") { [self] in
            let tenants = try tenant.map { [$0] } ?? FileSystem.names(in: directory).compactMap(TenantID.init(validating:))
            return try tenants.flatMap { try manifests(of: $0) }
                .sorted { ($0.createdAtMicroseconds, $0.id) > ($1.createdAtMicroseconds, $1.id) }
        }
    }

    /// One tenant's readable manifests, newest first. Blocking.
    func manifests(of tenant: TenantID) throws -> [BackupManifest] {
        let folder = tenantDirectory(tenant)
        var found: [BackupManifest] = []
        for name in try FileSystem.names(in: folder) where name.hasSuffix(".json") {
            guard let id = BackupID(tenant: tenant, stamp: name.dropLast(5)),
                let bytes = try? FileSystem.readSmallFile(folder + "/" + name),
                let manifest = try? JSONDecoder().decode(BackupManifest.self, from: Data(bytes)),
                manifest.id == id.description, manifest.tenantID == tenant.pathComponent,
                FileSystem.exists(dataPath(id))
            else { continue }
            found.append(manifest)
        }
        return found.sorted { ($0.createdAtMicroseconds, $0.id) > ($1.createdAtMicroseconds, $1.id) }
    }

    // MARK: Exclusion

    /// Runs `body` as the only backup or restore of `tenant`; throws `.busy` if one is running.
    func exclusively<T: Sendable>(_ tenant: TenantID, _ body: () async throws -> T) async throws -> T {
        let claimed = running.withLock { $0.insert(tenant).inserted }
        guard claimed else {
            throw BackupError(.busy, "a backup or restore of company \(tenant) is already running; try again when it ends")
        }
        defer { _ = running.withLock { $0.remove(tenant) } }
        return try await body()
    }

    static func iso8601(_ micros: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }
}
