import Foundation
import MailSyncMailTransport
import Testing
import TestSupport

/// `uidSearch(through:since:keys:)` with ``IMAPAddressSearch`` keys against a real Dovecot on
/// 127.0.0.1: the same answer through ESEARCH and through plain SEARCH windows.
@Suite("IMAPConnection address search", .timeLimit(.minutes(5)))
struct IMAPAddressSearchDovecotTests {
    @Test("FROM/TO/CC/BCC of any address, UIDs up to the cursor only, SINCE the backfill day; ESEARCH and windowed SEARCH agree")
    func addressSearch() async throws {
        try await DovecotServer.withServer(users: IMAPFolderTests.users) { dovecot in
            let recent = Date().addingTimeInterval(-86_400)
            // UID: who, when.
            let messages: [(header: String, date: Date)] = [
                ("From: ann@x.example\r\nTo: alice@example.com", recent),                       // 1
                ("From: alice@example.com\r\nTo: Bob <bob@y.example>", recent),                 // 2
                ("From: alice@example.com\r\nTo: carol@z.example\r\nCc: ann@x.example", recent), // 3
                ("From: ann@x.example\r\nTo: alice@example.com", IMAPFolderTests.old),          // 4: before the day
                ("From: stranger@w.example\r\nTo: alice@example.com", recent),                  // 5
                ("From: alice@example.com\r\nTo: dave@v.example\r\nBcc: bob@y.example", recent), // 6
                ("From: joann@x.example\r\nTo: alice@example.com", recent),                     // 7: a substring match
                ("From: ann@x.example\r\nTo: alice@example.com", recent),                       // 8: past the cursor
            ]
            for (index, message) in messages.enumerated() {
                try await dovecot.append(user: "alice", message: "\(message.header)\r\nSubject: m\(index + 1)\r\n\r\nx\r\n", date: message.date)
            }
            let imap = try await IMAPFolderTests.connect(dovecot)
            _ = try await imap.examine(.inbox)
            let keys = try #require(IMAPAddressSearch.criteria(["ann@x.example", "bob@y.example"])).text
            let since = Date().addingTimeInterval(-30 * 86_400)
            for (esearch, window) in [(true, UInt32(5000)), (false, UInt32(3)), (false, UInt32(5000))] {
                let trips = imap.roundTrips
                let found = try await imap.uidSearch(through: 7, since: since, keys: keys, window: window, useESearch: esearch)
                #expect(found.uids == [1, 2, 3, 6, 7], "esearch \(esearch), window \(window)")
                #expect(found.commands == (window == 3 ? 3 : 1))
                #expect(imap.roundTrips == trips + 1)
            }
            #expect(try await imap.uidSearch(through: 0, since: since, keys: keys).commands == 0)
            await imap.close()
        }
    }
}
