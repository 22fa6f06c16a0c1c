import Foundation
import MailSyncClient
import MailSyncEngine
import Testing
import TestSupport

/// A server stopping during a long first sync: the run is cancelled at a batch boundary instead
/// of holding the shutdown until the whole mailbox is read.
@Suite("Sync engine: stopping during a sync", .timeLimit(.minutes(3)))
struct SchedulerStopTests {
    static let total = 2_000

    @Test("stop() mid-sync cancels the run at a batch boundary: committed mail stays, no error is logged, the next start records the rest exactly once")
    func stopMidSync() async throws {
        var sync = ServiceHarness.syncSettings()
        sync.headersPerBatch = 10  // many small batches: the stop lands well before the end
        try await SyncFixture.with(leads: [(id: "jane", address: "jane@client.example")], sync: sync) { fixture in
            for i in 0..<Self.total {
                try await fixture.dovecot.append(
                    user: "alice",
                    message: "From: jane@client.example\r\nTo: \(SyncFixture.owner)\r\nSubject: Mail \(i)\r\nMessage-ID: <stop\(i)@c>\r\n\r\nHello \(i).\r\n",
                    date: fixture.daysAgo(1))
            }
            let run = Task { await fixture.harness.runSyncs() }
            try await waitUntil(.seconds(60)) { try await fixture.count("SELECT count(*) FROM mailbox_messages") > 0 }
            let stopping = ContinuousClock.now
            await fixture.harness.server.scheduler!.stop()
            let stopTook = ContinuousClock.now - stopping
            _ = await run.value
            let atStop = try await fixture.count("SELECT count(*) FROM mailbox_messages")
            #expect(atStop > 0 && atStop < Int64(Self.total), "stopped at \(atStop) of \(Self.total) after \(stopTook)")
            #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == atStop)
            #expect(try await fixture.errorLog().isEmpty, "a stop is not a failure")
            #expect(try await fixture.status().mailbox.status == .enabled)

            // The same data directory, a new server: the run resumes from the committed cursor.
            let dataDirectory = fixture.harness.dataDirectory
            await fixture.harness.stop(keepData: true)
            let second = try await ServiceHarness.start(dataDirectory: dataDirectory, sync: sync)
            #expect(await second.runSyncs() >= 1)
            let counts = try await MailboxFixtures.tenantRead(second, fixture.company) { db in
                (try db.scalar("SELECT count(*) FROM mailbox_messages")?.int64 ?? -1,
                 try db.scalar("SELECT count(*) FROM timeline_entries")?.int64 ?? -1,
                 try db.scalar("SELECT count(DISTINCT message_key) FROM timeline_entries")?.int64 ?? -1)
            }
            await second.stop(keepData: true)
            #expect(counts.0 == Int64(Self.total))
            #expect(counts.1 == Int64(Self.total))
            #expect(counts.2 == Int64(Self.total))
        }
    }
}
