import Foundation
import MailSyncObjectStore
import MailSyncReplication
import MailSyncSecurity
import MailSyncService
import Testing

/// `remoteBackup` in the config file: one target, credentials only from the environment, a
/// backup key required, every bound named when broken.
@Suite("Settings: remoteBackup")
struct RemoteBackupSettingsTests {
    static let key = BackupKey.generate()
    static let environment = [
        "MAILSYNC_S3_ACCESS_KEY_ID": "AKIDEXAMPLE", "MAILSYNC_S3_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-very-secret",
        BackupKey.environmentVariable: key.base64,
    ]

    static func decode(_ json: String) throws -> RemoteBackupSettings {
        try JSONDecoder().decode(RemoteBackupSettings.self, from: Data(json.utf8))
    }

    @Test("an S3 target with the defaults: path addressing, 1 s shipping, 5 s lag bound, daily snapshots, 7 days kept; the key's fingerprint")
    func s3Defaults() throws {
        let target = try Self.decode(#"{"s3": {"endpoint": "http://127.0.0.1:9000", "bucket": "mail-backups"}}"#).resolve(environment: Self.environment)
        #expect((target.store as? S3ObjectStore)?.configuration.prefix == "")
        #expect(target.place == "s3 http://127.0.0.1:9000 bucket mail-backups")
        #expect(target.key.fingerprint == Self.key.fingerprint)
        #expect(target.shipInterval == .seconds(1))
        #expect(target.maxLag == .seconds(5))
        #expect(target.snapshotInterval == .seconds(86_400))
        #expect(target.retention == .seconds(7 * 86_400))
    }

    @Test("a directory target with its timings", arguments: [0.2, 60.0])
    func directory(_ interval: Double) throws {
        let target = try Self.decode(#"{"directory": "/srv/backups", "shipIntervalSeconds": \#(interval), "retentionDays": 30}"#)
            .resolve(environment: Self.environment)
        #expect((target.store as? DirectoryObjectStore)?.root == "/srv/backups")
        #expect(target.shipInterval == .milliseconds(Int64(interval * 1000)))
        #expect(target.retention == .seconds(30 * 86_400))
        #expect(target.retentionPolicy == RetentionPolicy(window: .seconds(30 * 86_400)))
    }

    @Test("refused with the field or variable named, never with a credential in the text", arguments: [
        (#"{}"#, "exactly one target"),
        (#"{"directory": "/a", "s3": {"endpoint": "http://h", "bucket": "mail-backups"}}"#, "exactly one target"),
        (#"{"directory": "relative"}"#, "absolute path"),
        (#"{"s3": {"bucket": "mail-backups"}}"#, "\"endpoint\" and \"bucket\""),
        (#"{"s3": {"endpoint": "http://h", "bucket": "b", "addressing": "dns"}}"#, "addressing"),
        (#"{"s3": {"endpoint": "ftp://h", "bucket": "mail-backups"}}"#, "remoteBackup.s3"),
        (#"{"directory": "/a", "shipIntervalSeconds": 0}"#, "shipIntervalSeconds"),
        (#"{"directory": "/a", "maxLagSeconds": 1e300}"#, "maxLagSeconds"),
        (#"{"directory": "/a", "snapshotIntervalHours": 0.5}"#, "snapshotIntervalHours"),
        (#"{"directory": "/a", "retentionDays": 0}"#, "retentionDays"),
        (#"{"directory": "/a", "keepDailySnapshots": -1}"#, "keepDailySnapshots"),
        (#"{"directory": "/a", "keepWeeklySnapshots": 9999}"#, "keepWeeklySnapshots"),
    ])
    func refused(_ json: String, _ words: String) throws {
        let settings = try Self.decode(json)
        #expect {
            try settings.resolve(environment: Self.environment)
        } throws: { error in
            let text = "\(error)"
            return text.contains(words) && !text.contains("wJalrXUtnFEMI") && !text.contains(Self.key.base64)
        }
    }

    @Test("S3 without credentials in the environment, or any target without a backup key, is refused saying what to set")
    func missingSecrets() throws {
        let s3 = try Self.decode(#"{"s3": {"endpoint": "http://h", "bucket": "mail-backups"}}"#)
        #expect { try s3.resolve(environment: [BackupKey.environmentVariable: Self.key.base64]) } throws: {
            "\($0)".contains("MAILSYNC_S3_ACCESS_KEY_ID") && "\($0)".contains("never read from the config file")
        }
        let directory = try Self.decode(#"{"directory": "/a"}"#)
        #expect { try directory.resolve(environment: [:]) } throws: { "\($0)".contains("create-backup-key") }
        #expect { try directory.resolve(environment: [BackupKey.environmentVariable: "bm90IDMyIGJ5dGVz"]) } throws: {
            "\($0)".contains(BackupKey.environmentVariable)
        }
        let folder = try Self.decode(#"{"s3": {"endpoint": "http://h", "bucket": "mail-backups", "prefix": "/prod/"}}"#)
        #expect((try folder.resolve(environment: Self.environment).store as? S3ObjectStore)?.configuration.prefix == "prod/",
                "a prefix is a folder: objects go under prod/")
        let aws = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", BackupKey.environmentVariable: Self.key.base64]
        #expect(try s3.resolve(environment: aws).store is S3ObjectStore)
    }
}
