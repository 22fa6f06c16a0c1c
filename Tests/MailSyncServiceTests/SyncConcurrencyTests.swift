import Foundation
import MailSyncClient
import MailSyncService
import Testing
import TestSupport

/// The background loop's total bound, `maxConcurrentSyncs`, counted where it matters: connections
/// open at the mail server. (The per-company share is ``SyncFairnessTests``'s; the slot choice
/// rule by rule is ``SyncSlotsTests``'s.)
@Suite("Sync engine: the background loop runs at most maxConcurrentSyncs at once", .timeLimit(.minutes(3)))
struct SyncConcurrencyTests {
    /// Seven mailboxes of three companies, all due, on a server that logs in and then never
    /// completes a command: every run holds its slot until the server hangs up on it. The share
    /// per company is set to the total, so only `maxConcurrentSyncs` can hold the count at 3.
    /// Runs end only when the test hangs up (the command timeout and run budget are far away),
    /// and a failed run is not retried before the harness's clock moves (it never does here).
    @Test("7 mailboxes across 3 companies, maxConcurrentSyncs 3: never more than 3 connections at the server; each hang-up lets exactly one waiting mailbox start, until none waits")
    func totalBound() async throws {
        let slow = try HostileIMAPServer.start(mode: .slowDrip(interval: .seconds(1)))
        var sync = ServiceHarness.syncSettings()
        sync.runsInBackground = true
        sync.maxConcurrentSyncs = 3
        sync.maxConcurrentSyncsPerCompany = 3
        sync.connectTimeout = .seconds(120)
        sync.commandTimeout = .seconds(600)
        sync.runBudget = .seconds(600)
        let harness = try await ServiceHarness.start(sync: sync)
        do {
            var mailboxes = 0
            for (name, count) in [("North", 3), ("South", 2), ("East", 2)] {
                let company = try await harness.makeCompany(name: name)
                mailboxes += try await SyncFairnessTests.connectSlowMailboxes(harness, company, server: slow, count: count).count
            }
            #expect(mailboxes == 7)

            // The first three hold every slot; the other four wait.
            try await waitUntil(.seconds(30)) { slow.logins >= sync.maxConcurrentSyncs }
            #expect(slow.connectionsAccepted == sync.maxConcurrentSyncs)

            // Each hang-up frees one slot: one waiting mailbox (and only one) connects.
            for started in sync.maxConcurrentSyncs..<mailboxes {
                #expect(slow.hangUpOne())
                try await waitUntil(.seconds(30)) { slow.logins >= started + 1 }
                #expect(slow.connectionsAccepted == started + 1)
                #expect(slow.peakLiveConnections <= sync.maxConcurrentSyncs)
            }
            // Every mailbox has had its run; three are still in flight and nothing waits: hanging
            // up on them all starts nothing new.
            let scheduler = try #require(harness.server.scheduler)
            for _ in 0..<sync.maxConcurrentSyncs { #expect(slow.hangUpOne()) }
            try await waitUntil(.seconds(30)) { await scheduler.recentRuns.count == mailboxes }
            #expect(Set(await scheduler.recentRuns.map { "\($0.tenant)/\($0.mailboxID)" }).count == mailboxes, "a mailbox ran twice")
            #expect(slow.connectionsAccepted == mailboxes)
            #expect(slow.peakLiveConnections == sync.maxConcurrentSyncs)
        } catch {
            Issue.record(error)
        }
        slow.stop()
        await harness.stop()
    }
}
