import ArgumentParser
import Foundation
import Logging
import MailSyncCoding
import MailSyncSecurity
import MailSyncService
import MailSyncStorage
import MailSyncTenantData

/// `mailsync keys create-operator`: the first operator key, made on the server host itself.
///
/// Every other key is made through the API by an operator; this one cannot be, so it comes from
/// direct access to the data directory (safe while the server runs: SQLite serializes writers).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage keys: create-operator, rotate-secret and create-backup-key on the server host; API keys' create, list, revoke through the API.",
        subcommands: [CreateOperator.self, RotateSecret.self, CreateBackupKey.self, RemoteKeyCommands.Create.self, RemoteKeyCommands.List.self, RemoteKeyCommands.Revoke.self]
    )

    struct CreateOperator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-operator",
            abstract: "Create an operator API key and print its secret (shown once).")

        @Option(help: "The server's data directory (default ./data).")
        var dataDir: String = "./data"

        @Option(help: "What the key is for.")
        var label: String = "operator"

        @Flag(help: "Print JSON: {\"key_id\": …, \"secret\": …}.")
        var json = false

        func run() async throws {
            var logger = Logger(label: "mailsync")
            logger.logLevel = .warning
            let control = try await ControlDatabase.open(
                dataDirectory: DataDirectory(dataDir), migrations: ServiceSchema.controlMigrations, logger: logger)
            let label = self.label
            let now = Timestamp(secondsSinceEpoch: Date().timeIntervalSince1970)
            let (key, secret) = try await control.write { db in
                try APIKeyStore.insert(db, companyID: nil, role: "operator", userID: "", label: label, expiresAt: nil, now: now)
            }
            await control.close()
            if json {
                print("{\"key_id\": \"\(key.id)\", \"secret\": \"\(secret)\"}")
            } else {
                print("Operator key \(key.id) created. Its secret, shown only this once:\n\(secret)")
            }
        }
    }

    /// `mailsync keys rotate-secret`: re-seal every stored secret under a new server key, offline.
    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Re-seal every stored mailbox password and token under a new secret key (stop the server first).",
            discussion: """
                The old key must be in place (secret.key or MAILSYNC_SECRET_KEY). The new key is written to \
                secret.key.new, every company's secrets are re-sealed, then the file replaces secret.key. \
                Interrupted? Run it again: it continues. Keep the old key with backups made before.
                """)

        @Option(help: "The server's data directory (default ./data).")
        var dataDir: String = "./data"

        func run() async throws {
            var logger = Logger(label: "mailsync")
            logger.logLevel = .warning
            do {
                let result = try await SecretKeyRotation.run(dataDirectory: dataDir, logger: logger)
                print("Secret key rotated: \(result)")
            } catch {
                FileHandle.standardError.write(Data("mailsync keys rotate-secret: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    /// `mailsync keys create-backup-key`: a new key for sealing backups in the bucket.
    struct CreateBackupKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-backup-key",
            abstract: "Write a new backup key (32 random bytes, mode 0600) to a file; prints its fingerprint.",
            discussion: """
                Backups sent to a bucket are sealed with this key (AES-256-GCM). Keep a copy apart from the \
                server and from the bucket (a password manager, a vault): a restore onto a new machine needs \
                it, and the bucket alone reveals nothing without it. Point the server at the file with the \
                setting backupKeyFile, or put its base64 (printed with --print-base64) in MAILSYNC_BACKUP_KEY. \
                An existing file is never replaced.
                """)

        @Option(help: "Where to write the key (must not exist).")
        var out: String

        @Flag(help: "Also print the key's base64, for MAILSYNC_BACKUP_KEY (a secret: shown once).")
        var printBase64 = false

        func run() throws {
            do {
                let key = try BackupKey.create(file: out)
                print("Backup key written to \(out), fingerprint \(key.fingerprintHex).")
                if printBase64 { print(key.base64) }
            } catch {
                FileHandle.standardError.write(Data("mailsync keys create-backup-key: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
