import Foundation
import MailSyncObjectStore
import MailSyncReplication
import MailSyncSecurity

/// Where backups go off the machine, as the config file says it (`"remoteBackup": {…}`).
///
/// Exactly one target: `s3` (any store speaking the S3 API) or `directory` (a local or mounted
/// directory). Example:
/// ```json
/// "remoteBackup": {
///   "s3": { "endpoint": "https://s3.eu-west-1.amazonaws.com", "region": "eu-west-1",
///           "bucket": "acme-mailsync", "prefix": "prod", "addressing": "virtualHost" },
///   "backupKeyFile": "/etc/mailsync/backup.key",
///   "shipIntervalSeconds": 1, "maxLagSeconds": 5, "snapshotIntervalHours": 24, "retentionDays": 7
/// }
/// ```
/// The S3 credentials are never in the file: `MAILSYNC_S3_ACCESS_KEY_ID` and
/// `MAILSYNC_S3_SECRET_ACCESS_KEY` (or AWS's own `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
/// The backup key (``BackupKey``: `backupKeyFile` or `MAILSYNC_BACKUP_KEY`) is required: what
/// leaves the machine is sealed, so a leaked bucket leaks nothing.
public struct RemoteBackupSettings: Codable, Sendable, Equatable {
    public struct S3: Codable, Sendable, Equatable {
        public var endpoint: String?
        /// Default `us-east-1`.
        public var region: String?
        public var bucket: String?
        /// A folder inside the bucket, so several servers can share one (`prod` puts every object
        /// under `prod/`). Default none.
        public var prefix: String?
        /// `path` (default: `endpoint/bucket/key`, what MinIO, Ceph and SeaweedFS expect) or
        /// `virtualHost` (`bucket.endpoint/key`, AWS's preference).
        public var addressing: String?
        /// A PEM bundle to trust for an https endpoint instead of the system's roots.
        public var caFile: String?

        public init(
            endpoint: String? = nil, region: String? = nil, bucket: String? = nil, prefix: String? = nil,
            addressing: String? = nil, caFile: String? = nil
        ) {
            self.endpoint = endpoint
            self.region = region
            self.bucket = bucket
            self.prefix = prefix
            self.addressing = addressing
            self.caFile = caFile
        }
    }

    public var s3: S3?
    public var directory: String?
    public var backupKeyFile: String?
    /// How often new commits are shipped. Default 1 s (0.2...60).
    public var shipIntervalSeconds: Double?
    /// Shipping further behind than this degrades readiness (not fails). Default 5 s (1...3600).
    public var maxLagSeconds: Double?
    /// A new base snapshot (a new generation) this often; older segments then compact away.
    /// Default 24 h (1...720).
    public var snapshotIntervalHours: Double?
    /// Point-in-time history kept, in days. Default 7 (1...3650).
    public var retentionDays: Int?
    /// Beyond that history, one generation kept per day for this many days. Default 0 (0...3650).
    public var keepDailySnapshots: Int?
    /// … and one per week for this many weeks. Default 0 (0...520).
    public var keepWeeklySnapshots: Int?

    public init() {}

    public static let accessKeyVariables = ["MAILSYNC_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"]
    public static let secretKeyVariables = ["MAILSYNC_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"]

    /// The target these describe, checked: the store, the sealer, the timings.
    ///
    /// - Throws: `SettingsError` naming the field (or variable) and what to do; never with a
    ///   credential's value in it.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RemoteBackupTarget {
        let store: any ObjectStore
        let place: String
        switch (s3, directory) {
        case (nil, nil), (.some, .some):
            throw SettingsError("remoteBackup needs exactly one target: \"s3\": {…} or \"directory\": \"/path\"")
        case (nil, let directory?):
            guard directory.hasPrefix("/") else { throw SettingsError("remoteBackup.directory must be an absolute path, got \(directory)") }
            store = DirectoryObjectStore(root: directory)
            place = directory
        case (let s3?, nil):
            guard let endpoint = s3.endpoint, let bucket = s3.bucket else {
                throw SettingsError("remoteBackup.s3 needs \"endpoint\" and \"bucket\"")
            }
            guard let access = Self.first(Self.accessKeyVariables, environment), let secret = Self.first(Self.secretKeyVariables, environment) else {
                throw SettingsError("remoteBackup.s3 needs credentials in the environment: \(Self.accessKeyVariables[0]) and \(Self.secretKeyVariables[0]) (they are never read from the config file)")
            }
            let addressing: S3Configuration.Addressing
            switch s3.addressing ?? "path" {
            case "path": addressing = .path
            case "virtualHost": addressing = .virtualHost
            case let other: throw SettingsError("remoteBackup.s3.addressing must be \"path\" or \"virtualHost\", got \(other)")
            }
            let folder = (s3.prefix ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            let configuration = S3Configuration(
                endpoint: endpoint, region: s3.region ?? "us-east-1", bucket: bucket, prefix: folder.isEmpty ? "" : folder + "/",
                accessKeyID: access, secretAccessKey: secret, addressing: addressing, caFile: s3.caFile)
            do {
                store = try S3ObjectStore(configuration: configuration)
            } catch {
                throw SettingsError("remoteBackup.s3: \(error)")
            }
            place = "s3 \(endpoint) bucket \(bucket)\((s3.prefix ?? "").isEmpty ? "" : " prefix \(s3.prefix!)")"
        }
        let key: BackupKey
        do {
            guard let loaded = try BackupKey.load(file: backupKeyFile, environment: environment) else {
                throw SettingsError("remoteBackup needs a backup key: set backupKeyFile (mailsync keys create-backup-key --out FILE makes one) or \(BackupKey.environmentVariable); backups leave the machine sealed with it")
            }
            key = loaded
        } catch let error as BackupSealError {
            throw SettingsError("remoteBackup: \(error)")
        }
        func bounded(_ value: Double?, _ name: String, _ range: ClosedRange<Double>, _ fallback: Double) throws -> Double {
            guard let value else { return fallback }
            guard value.isFinite, range.contains(value) else {
                throw SettingsError("remoteBackup.\(name) must be \(range.lowerBound)...\(range.upperBound), got \(value)")
            }
            return value
        }
        let days = retentionDays ?? 7
        guard (1...3650).contains(days) else { throw SettingsError("remoteBackup.retentionDays must be 1...3650, got \(days)") }
        let daily = keepDailySnapshots ?? 0, weekly = keepWeeklySnapshots ?? 0
        guard (0...3650).contains(daily) else { throw SettingsError("remoteBackup.keepDailySnapshots must be 0...3650, got \(daily)") }
        guard (0...520).contains(weekly) else { throw SettingsError("remoteBackup.keepWeeklySnapshots must be 0...520, got \(weekly)") }
        return RemoteBackupTarget(
            store: store, place: place, key: key,
            shipInterval: .milliseconds(Int64(try bounded(shipIntervalSeconds, "shipIntervalSeconds", 0.2...60, 1) * 1000)),
            maxLag: .milliseconds(Int64(try bounded(maxLagSeconds, "maxLagSeconds", 1...3600, 5) * 1000)),
            snapshotInterval: .seconds(Int64(try bounded(snapshotIntervalHours, "snapshotIntervalHours", 1...720, 24) * 3600)),
            retention: .seconds(Int64(days) * 86_400),
            retentionPolicy: RetentionPolicy(window: .seconds(Int64(days) * 86_400), dailySnapshots: daily, weeklySnapshots: weekly))
    }

    private static func first(_ names: [String], _ environment: [String: String]) -> String? {
        for name in names { if let value = environment[name], !value.isEmpty { return value } }
        return nil
    }
}

/// A resolved remote backup target (``RemoteBackupSettings/resolve(environment:)``).
public struct RemoteBackupTarget: Sendable {
    public let store: any ObjectStore
    /// Where, for logs and the CLI (no credentials).
    public let place: String
    public let key: BackupKey
    public let shipInterval: Duration
    public let maxLag: Duration
    public let snapshotInterval: Duration
    /// The point-in-time window (`retentionDays`).
    public let retention: Duration
    /// The window plus the daily and weekly snapshots kept beyond it.
    public let retentionPolicy: RetentionPolicy
}
