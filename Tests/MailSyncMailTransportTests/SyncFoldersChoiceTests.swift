import MailSyncErrors
import MailSyncIMAP
@testable import MailSyncMailTransport
import Testing

@Suite("Choosing the folders to sync; quoting names; STATUS data", .timeLimit(.minutes(5)))
struct SyncFoldersChoiceTests {
    static func listing(_ name: String, _ attributes: [String] = [], delimiter: Character? = "/") -> MailboxListing {
        MailboxListing(attributes: attributes, delimiter: delimiter, rawName: Array(name.utf8))
    }

    @Test("\\Sent wins over the usual names; INBOX in any case")
    func specialUse() {
        let folders = SyncFolders(choosingFrom: [
            Self.listing("Inbox"), Self.listing("Sent"), Self.listing("Gesendete Objekte", ["\\HasNoChildren", "\\sent"]),
        ])
        #expect(folders.inbox.rawName == Array("Inbox".utf8))
        #expect(folders.sent?.name == "Gesendete Objekte" && folders.sent?.specialUse == .sent)
    }

    @Test("fallback names: Sent Items, [Gmail]/Sent Mail, INBOX.Sent, modified UTF-7, \\Noselect skipped")
    func fallbackNames() {
        #expect(SyncFolders(choosingFrom: [Self.listing("INBOX"), Self.listing("Drafts"), Self.listing("sent items")]).sent?.name == "sent items")
        #expect(SyncFolders(choosingFrom: [Self.listing("INBOX"), Self.listing("[Gmail]", ["\\Noselect"]), Self.listing("[Gmail]/Sent Mail")])
            .sent?.name == "[Gmail]/Sent Mail")
        // A top-level "Sent" beats "Sent Items" and "INBOX.Sent", whatever the order.
        let dotted = [Self.listing("INBOX.Sent", delimiter: "."), Self.listing("Sent Items", delimiter: "."), Self.listing("Sent", delimiter: ".")]
        #expect(SyncFolders(choosingFrom: dotted).sent?.name == "Sent")
        #expect(SyncFolders(choosingFrom: Array(dotted.prefix(2))).sent?.name == "INBOX.Sent")
        #expect(SyncFolders(choosingFrom: [Self.listing("INBOX.Sent Messages", delimiter: ".")]).sent?.name == "INBOX.Sent Messages")
        // "Sent" under another parent, or \Noselect, is not it.
        #expect(SyncFolders(choosingFrom: [Self.listing("Archive/Sent"), Self.listing("Sent", ["\\Noselect"])]).sent == nil)
        // Names are compared decoded: "Sent &AMk-l&AOk-ments" is "Sent éléments", not a match; raw names are kept.
        let utf7 = Self.listing("&AMk-l&AOk-ments envoy&AOk-s", ["\\Sent"])
        let chosen = SyncFolders(choosingFrom: [utf7])
        #expect(chosen.sent?.rawName == utf7.rawName && chosen.sent?.name == "Éléments envoyés")
        // No INBOX listed: plain INBOX.
        #expect(SyncFolders(choosingFrom: []) == SyncFolders(inbox: .inbox, sent: nil))
        // A name that cannot be sent is never chosen.
        #expect(SyncFolders(choosingFrom: [Self.listing("Sent\r\na2 DELETE INBOX")]).sent == nil)
    }

    @Test("quoted names escape \\ and \", and refuse CR, LF, NUL")
    func quoting() throws {
        #expect(try IMAPCommandText.quoted(Array(#"a "b" \c"#.utf8)) == #""a \"b\" \\c""#)
        #expect(try IMAPCommandText.quoted(Array("&AMk-t&AOk-".utf8)) == "\"&AMk-t&AOk-\"")
        for bad in ["x\r\na1 LOGOUT", "x\n", "x\u{0}"] {
            let error = #expect(throws: IMAPConnectionError.self) { try IMAPCommandText.quoted(Array(bad.utf8)) }
            #expect(error?.diagnosis.errorClass == .operator)
        }
        #expect(throws: IMAPConnectionError.self) { try IMAPCommandText.quoted([0x41, 0xFF]) }
    }

    @Test("STATUS data: quoted, atom and literal names; items by name")
    func statusData() {
        let quoted = StatusData(#""Sent \"x\"" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1700000000)"#)
        #expect(quoted?.mailbox == Array(#"Sent "x""#.utf8))
        #expect(quoted?.items == ["MESSAGES": 3, "UIDNEXT": 4, "UIDVALIDITY": 1_700_000_000])
        #expect(StatusData("INBOX (uidvalidity 7)")?.items == ["UIDVALIDITY": 7])
        #expect(StatusData("{4}\r\nA (B (UIDVALIDITY 9)")?.mailbox == Array("A (B".utf8))
        #expect(StatusData("INBOX ()")?.items == [:])
        for bad in ["", "INBOX", "INBOX (MESSAGES)", "INBOX (MESSAGES x)", "\"INBOX (MESSAGES 1)", "{9}\r\nA (B 1)"] {
            #expect(StatusData(bad) == nil, "\(bad)")
        }
    }
}
