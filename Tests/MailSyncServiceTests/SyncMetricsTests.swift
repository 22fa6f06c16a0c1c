import Foundation
import MailSyncClient
@testable import MailSyncService
import Testing
import TestSupport

/// The sync engine's metrics after real syncs against Dovecot on 127.0.0.1.
@Suite("Observability: sync metrics", .timeLimit(.minutes(5)))
struct SyncMetricsTests {
    @Test("a sync moves runs, recorded messages and the lag histogram; a failure counts by class; mailboxes by status follow")
    func syncMetrics() async throws {
        try await SyncFixture.with(leads: [(id: "lead-1", address: "jane@client.example")]) { fixture in
            let observability = fixture.harness.server.observability
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Two days", messageID: "a@c", date: fixture.daysAgo(2))
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Half a day", messageID: "b@c", date: fixture.daysAgo(0.5))
            try await fixture.deliver(from: "stranger@nowhere.example", to: SyncFixture.owner, subject: "Not a lead", messageID: "c@n")
            #expect(await fixture.harness.runSyncs() == 1)
            await observability.refreshMailboxStatuses()

            var text = String(decoding: observability.metrics.exposition(), as: UTF8.self)
            #expect(PrometheusText.value(text, ServiceMetrics.runsLabel, #"outcome="ok""#) == 1)
            #expect(PrometheusText.value(text, ServiceMetrics.recordedLabel) == 2)
            // Lags by the server's clock: 2 days and 12 hours exactly (INTERNALDATE has whole seconds).
            #expect(PrometheusText.value(text, ServiceMetrics.lagLabel + "_count") == 2)
            #expect(PrometheusText.value(text, ServiceMetrics.lagLabel + "_sum") == Double(2 * 86_400 + 43_200))
            #expect(PrometheusText.value(text, ServiceMetrics.mailboxesLabel, #"status="enabled""#) == 1)
            #expect(PrometheusText.value(text, ServiceMetrics.mailboxesLabel, #"status="error""#) == 0)

            // Nothing listens on the mailbox's new port: a temporary failure.
            var update = UpdateMailboxCredentialsRequest()
            update.mailboxId = fixture.mailboxID
            update.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(try DovecotServer.freePort()), .none)
            _ = try await fixture.company.admin.updateMailboxCredentials(update)
            #expect(await fixture.harness.runSyncs() == 1)
            await observability.refreshMailboxStatuses()

            text = String(decoding: observability.metrics.exposition(), as: UTF8.self)
            #expect(PrometheusText.value(text, ServiceMetrics.runsLabel, #"outcome="ok""#) == 1)
            #expect(PrometheusText.value(text, ServiceMetrics.runsLabel, #"outcome="failed""#) == 1)
            #expect(PrometheusText.value(text, ServiceMetrics.errorsLabel, #"class="temporary""#) == 1)
            #expect(PrometheusText.value(text, ServiceMetrics.recordedLabel) == 2)
            #expect(PrometheusText.value(text, ServiceMetrics.mailboxesLabel, #"status="enabled""#) == 0)
            #expect(PrometheusText.value(text, ServiceMetrics.mailboxesLabel, #"status="error""#) == 1)
        }
    }
}
