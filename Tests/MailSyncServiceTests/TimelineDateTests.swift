import Foundation
import MailSyncClient
import TestSupport
import Testing

/// The timeline's date is the sender's `Date:` header when sane, else the server's
/// INTERNALDATE, and the entry says which — through a real Dovecot, with INTERNALDATEs set by
/// APPEND as an import would.
@Suite("Timeline dates: the Date: header or INTERNALDATE", .timeLimit(.minutes(5)))
struct TimelineDateTests {
    @Test("imported mail shows when it was written; a future, missing, unparsable or too old Date: falls back to when the server got it")
    func dates() async throws {
        try await SyncFixture.with(leads: [(id: "lead-1", address: "jane@client.example")]) { fixture in
            // The harness's clock: 2026-09-21 14:13:20 UTC. INTERNALDATE of every message: a day ago.
            let received = fixture.daysAgo(1)
            func append(_ subject: String, date: String?) async throws {
                var text = "From: jane@client.example\r\nTo: \(SyncFixture.owner)\r\nSubject: \(subject)\r\n"
                if let date { text += "Date: \(date)\r\n" }
                text += "Message-ID: <\(subject.replacingOccurrences(of: " ", with: "-"))@client.example>\r\n\r\nHello.\r\n"
                try await fixture.dovecot.append(user: "alice", message: text, date: received)
            }
            try await append("Imported", date: "Tue, 1 Sep 2026 08:30:00 -0400")
            try await append("Fast clock", date: "Mon, 21 Sep 2026 14:40:00 +0000")
            try await append("From the future", date: "Thu, 1 Jan 2099 00:00:00 +0000")
            try await append("Nonsense", date: "sometime next week")
            try await append("No date", date: nil)
            try await append("Ancient", date: "Fri, 1 Mar 2019 10:00:00 +0000")
            await fixture.harness.runSyncs()

            let entries = try await fixture.timeline("lead-1")
            let bySubject = Dictionary(uniqueKeysWithValues: entries.map { ($0.subject, $0) })
            #expect(bySubject.count == 6, "\(entries.map(\.subject))")
            let receivedMicros = Int64(received.timeIntervalSince1970) * 1_000_000

            let imported = try #require(bySubject["Imported"])
            #expect(imported.dateSource == .dateHeader)
            #expect(imported.date.microsecondsSinceEpoch == 1_788_265_800 * 1_000_000,
                    "2026-09-01 12:30 UTC")
            let fast = try #require(bySubject["Fast clock"])
            #expect(fast.dateSource == .dateHeader, "27 minutes ahead is within the hour of skew")
            for subject in ["From the future", "Nonsense", "No date", "Ancient"] {
                let entry = try #require(bySubject[subject])
                #expect(entry.dateSource == .serverReceived, "\(subject)")
                #expect(entry.date.microsecondsSinceEpoch == receivedMicros, "\(subject): \(entry.date)")
            }
            // Newest first, by the dates shown: the imported mail sorts by when it was written.
            #expect(entries.last?.subject == "Imported", "\(entries.map(\.subject))")
            #expect(entries.first?.subject == "Fast clock", "\(entries.map(\.subject))")
        }
    }
}
