import Foundation
import Logging
import MailSyncClient
import MailSyncSecurity
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// The server's secret key is never silently replaced, can be rotated, and one server holds a
/// data directory.
@Suite("Secret key: checked at start, rotated offline", .timeLimit(.minutes(2)))
struct SecretKeyTests {
    static let password = "p4ss-w0rd"

    /// A data directory with one company and one password mailbox, the server stopped.
    static func seeded() async throws -> (directory: String, company: String, mailbox: String) {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = MailboxFixtures.request(email: "alice@acme.example", provider: .gmail, secret: password)
        request.userId = company.adminUserID
        let mailbox = try await company.admin.createMailboxConnection(request)
        await harness.stop(keepData: true)
        return (harness.dataDirectory, company.id, mailbox.id)
    }

    static func keyPath(_ directory: String) -> String { directory + "/" + SecretKeyStore.fileName }

    /// The stored password of the mailbox, opened with the key now in the directory.
    static func storedPassword(_ directory: String, company: String, mailbox: String) async throws -> String {
        let harness = try await ServiceHarness.start(dataDirectory: directory)
        do {
            let env = try #require(harness.server.environment)
            let tenant = try #require(TenantID(validating: company))
            let sealed = try await env.read(tenant, "the mailbox") { db in
                try db.query("SELECT secret FROM mailboxes WHERE id = ?", [.text(mailbox)]).first?[0].bytes ?? []
            }
            let password = try env.secrets.open(sealed, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: mailbox))
            await harness.stop(keepData: true)
            return password
        } catch {
            await harness.stop(keepData: true)
            throw error
        }
    }

    @Test("a missing key file stops the start with how to restore it, and no new key is made")
    func missingKey() async throws {
        let (directory, company, mailbox) = try await Self.seeded()
        let saved = try #require(FileManager.default.contents(atPath: Self.keyPath(directory)))
        try FileManager.default.removeItem(atPath: Self.keyPath(directory))
        await #expect { _ = try await ServiceHarness.start(dataDirectory: directory) } throws: { error in
            "\(error)".contains("is missing") && "\(error)".contains("Restore the file from your backup")
        }
        #expect(!FileManager.default.fileExists(atPath: Self.keyPath(directory)))
        // Put back, everything is readable again.
        FileManager.default.createFile(atPath: Self.keyPath(directory), contents: saved, attributes: [.posixPermissions: 0o600])
        #expect(try await Self.storedPassword(directory, company: company, mailbox: mailbox) == Self.password)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("another key file stops the start naming both fingerprints")
    func differentKey() async throws {
        let (directory, _, _) = try await Self.seeded()
        try FileManager.default.removeItem(atPath: Self.keyPath(directory))
        let other = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        FileManager.default.createFile(atPath: Self.keyPath(directory), contents: other, attributes: [.posixPermissions: 0o600])
        await #expect { _ = try await ServiceHarness.start(dataDirectory: directory) } throws: { error in
            guard let mismatch = error as? SecretKeyMismatch else { return false }
            return mismatch.expected != mismatch.found && mismatch.description.contains("rotate-secret")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("mailsync serve with another MAILSYNC_SECRET_KEY exits with the reason")
    func differentEnvironmentKey() async throws {
        let (directory, _, _) = try await Self.seeded()
        let other = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let (status, _, errors) = try await CommandRunner.run(
            ["serve", "--listen", "127.0.0.1:0", "--data-dir", directory], environment: [SecretKeyStore.environmentVariable: other])
        #expect(status != 0)
        #expect(errors.contains("MAILSYNC_SECRET_KEY") && errors.contains("fingerprint"), "\(errors)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("rotate-secret re-seals every secret under a new key; the old key opens nothing; a second run changes nothing it did")
    func rotate() async throws {
        let (directory, company, mailbox) = try await Self.seeded()
        let oldKey = try #require(FileManager.default.contents(atPath: Self.keyPath(directory)))
        let (status, output, errors) = try await CommandRunner.run(["keys", "rotate-secret", "--data-dir", directory])
        #expect(status == 0, "\(output) \(errors)")
        #expect(output.contains("re-sealed 1 secrets in 1 companies"), "\(output)")
        let newKey = try #require(FileManager.default.contents(atPath: Self.keyPath(directory)))
        #expect(newKey != oldKey && newKey.count == 32)
        #expect(!FileManager.default.fileExists(atPath: Self.keyPath(directory) + ".new"))
        #expect(try await Self.storedPassword(directory, company: company, mailbox: mailbox) == Self.password)

        // The old key opens nothing any more.
        let tenant = try #require(TenantID(validating: company))
        let pool = try TenantPool(dataDirectory: DataDirectory(directory), migrations: TenantMigrations.all, capacity: 1, logger: Logger(label: "test"))
        let sealed = try await pool.withTenant(tenant) { lease in
            try await lease.read { db in try db.query("SELECT secret FROM mailboxes WHERE id = ?", [.text(mailbox)]).first?[0].bytes ?? [] }
        }
        await pool.close()
        let oldBox = SecretBox(key: .init(data: oldKey))
        #expect(throws: SecretBoxError.self) { try oldBox.open(sealed, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: mailbox)) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("an interrupted rotation (new key written, nothing re-sealed yet) is finished by running it again")
    func resumeRotation() async throws {
        let (directory, company, mailbox) = try await Self.seeded()
        let pending = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        FileManager.default.createFile(atPath: Self.keyPath(directory) + ".new", contents: pending, attributes: [.posixPermissions: 0o600])
        let result = try await SecretKeyRotation.run(dataDirectory: directory, environment: [:], logger: Logger(label: "test"))
        #expect(result.resealed == 1)
        #expect(FileManager.default.contents(atPath: Self.keyPath(directory)) == pending)
        #expect(try await Self.storedPassword(directory, company: company, mailbox: mailbox) == Self.password)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("one server per data directory; rotation refuses while it runs")
    func oneServer() async throws {
        let harness = try await ServiceHarness.start()
        await #expect { _ = try await ServiceHarness.start(dataDirectory: harness.dataDirectory) } throws: { error in
            "\(error)".contains("in use by another process")
        }
        await #expect { _ = try await SecretKeyRotation.run(dataDirectory: harness.dataDirectory, environment: [:], logger: Logger(label: "test")) } throws: { error in
            "\(error)".contains("stop it before rotating")
        }
        await harness.stop()
    }
}
