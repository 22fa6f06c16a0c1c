import Foundation
import MailSyncClient
import TestSupport
import Testing

/// Each logged error keeps the redacted exchange before it, through the sync engine and
/// `ListErrorLog`, against a real Dovecot; the password is in neither the answer nor the files.
@Suite("Error log: the exchange before each error", .timeLimit(.minutes(5)))
struct ErrorExchangeTests {
    @Test("a refused login's entry shows the login line and Dovecot's NO, and the password nowhere")
    func refusedLogin() async throws {
        let wrong = "Wrong-pw-Hh83-secret"
        try await SyncFixture.with(mailboxPassword: wrong) { fixture in
            await fixture.harness.runSyncs()
            var request = ListErrorLogRequest()
            request.mailboxId = fixture.mailboxID
            let entries = try await fixture.company.admin.listErrorLog(request).entries
            let entry = try #require(entries.first)
            #expect(entry.exchange.first == "C: (login by libcurl: credentials withheld)", "\(entry.exchange)")
            #expect(entry.exchange.contains { $0.hasPrefix("S: ") && $0.contains("AUTHENTICATIONFAILED") }, "\(entry.exchange)")
            #expect(!entry.exchange.joined().contains(wrong))
            // Not in any file of the data directory either (the secret is sealed; the log redacted).
            let files = FileManager.default.enumerator(atPath: fixture.harness.dataDirectory)?.compactMap { $0 as? String } ?? []
            for file in files {
                let data = (try? Data(contentsOf: URL(fileURLWithPath: fixture.harness.dataDirectory + "/" + file))) ?? Data()
                #expect(data.range(of: Data(wrong.utf8)) == nil, "\(file) holds the password")
            }
            // The next occurrence replaces the exchange and counts.
            await fixture.advanceAndSync(seconds: 3600)
            let again = try #require(try await fixture.company.admin.listErrorLog(request).entries.first)
            #expect(again.count == 2)
            #expect(again.exchange.first == "C: (login by libcurl: credentials withheld)")
        }
    }
}
