import ArgumentParser
import Foundation
import MailSyncObjectStore
import MailSyncReplication
import MailSyncService
import MailSyncStorage

/// `mailsync remote`: the backups a server ships off the machine (`remoteBackup` in its config),
/// read from the bucket alone: list them, restore onto a new data directory.
struct RemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "List or restore the backups shipped to the remoteBackup target (from the bucket alone).",
        discussion: """
            Reads the target from the server's config file (--config, its "remoteBackup" section) and the \
            credentials and backup key from the environment (MAILSYNC_S3_ACCESS_KEY_ID, \
            MAILSYNC_S3_SECRET_ACCESS_KEY, MAILSYNC_BACKUP_KEY) or backupKeyFile. Needs no running server.
            """,
        subcommands: [List.self, Restore.self, Prune.self])

    static func target(config: String) throws -> RemoteBackupTarget {
        let settings = try ServerSettings.load(from: config)
        guard let remote = settings.remoteBackup else {
            throw SettingsError("the config file \(config) has no \"remoteBackup\" section: nothing is shipped off the machine")
        }
        return try remote.resolve()
    }

    /// Every database name in the store (`control`, `tenants/<id>`), from the generations' keys.
    static func names(in store: any ObjectStore) async throws -> [String] {
        var names = Set<String>()
        for object in try await store.list(prefix: "") {
            guard let range = object.key.value.range(of: "/generations/") else { continue }
            names.insert(String(object.key.value[..<range.lowerBound]))
        }
        return names.sorted()
    }

    static func fail(_ command: String, _ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("mailsync remote \(command): \(error)\n".utf8))
        return ExitCode(1)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Each shipped database's generations: when each began and how far it reaches.")

        @Option(help: "The server's config file (its remoteBackup section).")
        var config: String

        func run() async throws {
            do {
                let target = try RemoteCommand.target(config: config)
                let catalog = ReplicaCatalog(store: target.store, sealer: SealedObjects(key: target.key))
                print("Backups at \(target.place), sealed with backup key \(target.key.fingerprintHex):")
                for name in try await RemoteCommand.names(in: target.store) {
                    print(name)
                    for generation in try await catalog.generations(of: name) {
                        print("  generation \(generation.id): from \(Self.text(generation.snapshotAt)) to \(Self.text(generation.reachesTo)), \(generation.objects) objects, \(generation.bytes) bytes")
                    }
                }
            } catch {
                throw RemoteCommand.fail("list", error)
            }
        }

        static func text(_ date: Date) -> String {
            ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Rebuild databases from the bucket into a new data directory, verified before anything is written there.",
            discussion: """
                --all restores the control database and every company; --company one company. --at picks the \
                moment (ISO 8601, e.g. 2026-12-07T10:15:00Z; default: the latest shipped). The destination \
                must not exist yet. Then put the server's secret key beside it (secret.key, or \
                MAILSYNC_SECRET_KEY) and start `mailsync serve --data-dir` on it: mail that arrived after the \
                moment is synced again from the mail servers, and recorded once.
                """)

        @Option(help: "The server's config file (its remoteBackup section).")
        var config: String

        @Option(help: "The new data directory to create.")
        var to: String

        @Option(help: "One company's id.")
        var company: String?

        @Flag(help: "The control database and every company.")
        var all = false

        @Option(help: "The moment to restore to (ISO 8601); default the latest shipped.")
        var at: String?

        func validate() throws {
            guard all != (company != nil) else { throw ValidationError("give exactly one of --all and --company ID") }
            if let at, Self.parse(at) == nil { throw ValidationError("--at \(at) is not an ISO 8601 time such as 2026-12-07T10:15:00Z") }
        }

        /// The rebuilt file must carry the stamp of the database it is restored as (the control
        /// database's, or that company's): a bucket's objects moved under another name are refused.
        static func checkStamp(name: String, path: String) throws {
            let stamp: FileStamp
            if name == BackupShipping.controlName {
                stamp = .control
            } else if let id = name.split(separator: "/").last.flatMap({ TenantID(validating: String($0)) }) {
                stamp = .tenant(id)
            } else {
                throw SettingsError("\(name) is not a database name this server ships")
            }
            do {
                try stamp.verify(fileAt: path)
            } catch {
                throw SettingsError("\(name) was rebuilt, but the file is not that database (\(error)); nothing was restored")
            }
        }

        static func parse(_ text: String) -> Date? {
            let formatter = ISO8601DateFormatter()
            if let date = formatter.date(from: text) { return date }
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.date(from: text)
        }

        func run() async throws {
            do {
                let target = try RemoteCommand.target(config: config)
                guard !FileManager.default.fileExists(atPath: to) else {
                    throw SettingsError("\(to) exists; restore into a new directory (nothing was written)")
                }
                var names: [String]
                if let company {
                    guard let tenant = TenantID(validating: company) else { throw SettingsError("\(company) is not a company id") }
                    names = [BackupShipping.tenantName(tenant)]
                } else {
                    names = try await RemoteCommand.names(in: target.store)
                    guard names.contains(BackupShipping.controlName) else {
                        throw SettingsError("the bucket holds no control database at \(target.place): nothing was restored")
                    }
                }
                let moment = at.flatMap(Self.parse)
                // Rebuilt and checked in a staging directory first; renamed into place only when all passed.
                let staging = to + ".restoring-\(UUID().uuidString.prefix(8))"
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                do {
                    for name in names {
                        let destination = name == BackupShipping.controlName ? staging + "/control.sqlite" : staging + "/" + name + "/tenant.sqlite"
                        try FileManager.default.createDirectory(
                            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                            attributes: [.posixPermissions: 0o700])
                        let result = try await PointInTimeRestore(store: target.store, sealer: SealedObjects(key: target.key), name: name)
                            .restore(to: destination, at: moment)
                        try Self.checkStamp(name: name, path: destination)
                        print("\(name): generation \(result.generation), \(result.segments) segments, as of \(List.text(Date(timeIntervalSince1970: Double(result.restoredToMilliseconds) / 1000)))")
                    }
                    try FileManager.default.moveItem(atPath: staging, toPath: to)
                } catch {
                    try? FileManager.default.removeItem(atPath: staging)
                    throw error
                }
                print("Restored \(names.count) database(s) into \(to). Put the secret key there (secret.key, mode 0600) or set MAILSYNC_SECRET_KEY, then: mailsync serve --data-dir \(to)")
            } catch {
                throw RemoteCommand.fail("restore", error)
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Delete the generations older than the retention window (the server also does it hourly).",
            discussion: """
                Keeps retentionDays of point-in-time history (the generation covering the window's start \
                and every newer one), plus the newest generation of each of the last keepDailySnapshots days \
                and keepWeeklySnapshots weeks. Never deletes a database's newest generation. --dry-run lists only.
                """)

        @Option(help: "The server's config file (its remoteBackup section).")
        var config: String

        @Flag(help: "List what would be deleted; delete nothing.")
        var dryRun = false

        func run() async throws {
            do {
                let target = try RemoteCommand.target(config: config)
                let catalog = ReplicaCatalog(store: target.store, sealer: SealedObjects(key: target.key))
                var total = 0
                for name in try await RemoteCommand.names(in: target.store) {
                    let keys = dryRun
                        ? try await catalog.retentionPlan(of: name, policy: target.retentionPolicy, now: Date())
                        : try await catalog.applyRetention(of: name, policy: target.retentionPolicy, now: Date())
                    for key in keys { print("\(dryRun ? "would delete" : "deleted") \(key)") }
                    total += keys.count
                }
                print("\(dryRun ? "Would delete" : "Deleted") \(total) object(s) outside \(target.retention.components.seconds / 86_400) days of history.")
            } catch {
                throw RemoteCommand.fail("prune", error)
            }
        }
    }
}
