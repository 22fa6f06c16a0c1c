import ArgumentParser
import Foundation
import Logging
import MailSyncCoding
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
        abstract: "Manage API keys: create-operator and rotate-secret on the server host; create, list, revoke through the API.",
        subcommands: [CreateOperator.self, RotateSecret.self, RemoteKeyCommands.Create.self, RemoteKeyCommands.List.self, RemoteKeyCommands.Revoke.self]
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
}
