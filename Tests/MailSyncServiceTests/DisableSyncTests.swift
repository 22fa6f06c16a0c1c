import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncStorage
import Testing
import TestSupport

/// Disabling sync after real syncs: keep or remove what the mailbox recorded, with one message
/// that two users' mailboxes both hold.
@Suite("Disabling sync", .timeLimit(.minutes(5)))
struct DisableSyncTests {
    @Test("keep leaves the shared entry with both users; remove leaves it with the other user only and wipes the rest", arguments: [PreviousCommunication.keep, .remove])
    func disable(previous: PreviousCommunication) async throws {
        try await SyncFixture.with(
            leads: [(id: "lead-1", address: "jane@client.example")],
            dovecotUsers: [(name: "alice", password: SyncFixture.password), (name: "carol", password: "pw2")]
        ) { fixture in
            _ = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "carol", role: .salesperson)
            _ = try await fixture.company.admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "carol@acme.example", username: "carol", port: fixture.dovecot.port, secret: "pw2", userID: "carol"))
            let shared = "From: jane@client.example\r\nTo: \(SyncFixture.owner), carol@acme.example\r\nSubject: Both\r\nMessage-ID: <both@c>\r\n\r\nfor both\r\n"
            try await fixture.dovecot.append(user: "alice", message: shared, date: fixture.daysAgo(1))
            try await fixture.dovecot.append(user: "carol", message: shared, date: fixture.daysAgo(1))
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Alice only", messageID: "alice@c")
            #expect(await fixture.harness.runSyncs() == 2)
            #expect(try await fixture.timeline("lead-1").count == 2)

            let response = try await fixture.company.admin.disableMailbox(MailboxFixtures.disable(fixture.mailboxID, previous))
            #expect(response.mailbox.status == .disabled)
            let entries = try await fixture.timeline("lead-1")
            if previous == .keep {
                #expect(response.removedTimelineEntries == 0)
                #expect(Set(entries.map(\.subject)) == ["Both", "Alice only"])
                #expect(entries.first { $0.subject == "Both" }?.userIds == [fixture.company.adminUserID, "carol"].sorted())
            } else {
                #expect(response.removedTimelineEntries == 1)
                #expect(entries.map(\.subject) == ["Both"])
                #expect(entries.first?.userIds == ["carol"])
                #expect(entries.first?.bodyText == "for both\r\n")
                // Alice's own message left nothing behind.
                #expect(try await fixture.count("SELECT count(*) FROM messages WHERE message_key = 'mid:alice@c'") == 0)
                #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages WHERE mailbox_id = '\(fixture.mailboxID)'") == 0)
            }
            // Credentials are wiped; syncing again needs a new connection.
            let mailboxID = fixture.mailboxID
            let secret = try await MailboxFixtures.tenantRead(fixture.harness, fixture.company) {
                try $0.scalar("SELECT secret FROM mailboxes WHERE id = ?", [.text(mailboxID)])?.bytes
            }
            #expect(secret == nil)
            var update = UpdateMailboxCredentialsRequest()
            update.mailboxId = fixture.mailboxID
            update.secret = SyncFixture.password
            await #expect { _ = try await fixture.company.admin.updateMailboxCredentials(update) } throws: { error in
                (error as? RPCError)?.code == .failedPrecondition
            }
            // The disabled mailbox is never contacted again.
            #expect(await fixture.advanceAndSync(seconds: 86_400) == 1)  // carol's only
        }
    }
}
