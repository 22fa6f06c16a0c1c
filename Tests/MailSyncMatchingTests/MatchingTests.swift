import Foundation
import MailSyncIMAP
import MailSyncMatching
import Testing

private func address(_ text: String, name: String? = nil) -> Address {
    let parts = text.split(separator: "@", maxSplits: 1).map { Array($0.utf8) }
    return Address(name: name.map { Array($0.utf8) }, mailbox: parts.first, host: parts.count > 1 ? parts[1] : nil)
}

private func envelope(from: [Address], to: [Address] = [], cc: [Address] = [], subject: String = "Hi", messageID: String? = nil) -> Envelope {
    Envelope(date: Array("Tue, 2 Jan 2024 03:04:05 +0000".utf8), subject: Array(subject.utf8), from: from, to: to, cc: cc,
             messageID: messageID.map { Array($0.utf8) })
}

@Suite("Participants and addresses")
struct ParticipantTests {
    @Test("addresses are trimmed and lower-cased; junk is refused")
    func normalize() {
        #expect(EmailAddress.normalize("  Jane.Doe@Example.COM ") == "jane.doe@example.com")
        for junk in ["", "no-at-sign", "@example.com", "jane@", "ja ne@example.com", "jane\u{7}@example.com",
                     String(repeating: "a", count: 320) + "@x.io"] {
            #expect(EmailAddress.normalize(junk) == nil, "\(junk)")
        }
    }

    @Test("From, To, Cc, Bcc in order; encoded names decoded; group markers and repeats skipped")
    func participants() {
        let value = Envelope(
            from: [address("Lead@Example.com", name: "=?UTF-8?Q?Ren=C3=A9e?=")],
            to: [Address(mailbox: Array("team".utf8)), address("me@acme.com"), address("me@acme.com"), Address()],
            cc: [address("me@acme.com")], bcc: [address("boss@acme.com")])
        let participants = MailParticipant.of(value)
        #expect(participants.map(\.kind) == [.from, .to, .cc, .bcc])
        #expect(participants.map(\.address) == ["lead@example.com", "me@acme.com", "me@acme.com", "boss@acme.com"])
        #expect(participants[0].displayName == "Renée")
    }

    @Test("at most `limit` participants")
    func limit() {
        let many = (0..<1000).map { address("p\($0)@example.com") }
        #expect(MailParticipant.of(envelope(from: [address("a@b.c")], to: many), limit: 50).count == 50)
    }
}

@Suite("Message keys")
struct MessageKeyTests {
    @Test("Message-ID without brackets or space, case kept")
    func messageID() {
        #expect(MessageKey.of(envelope(from: [], messageID: " <AbC.123@Mail.example> ")) == "mid:AbC.123@Mail.example")
    }

    @Test("mail without Message-ID: the same headers give the same key; a different subject a different one")
    func fingerprint() {
        let a = MessageKey.of(envelope(from: [address("x@y.z")], to: [address("me@acme.com")]))
        let b = MessageKey.of(envelope(from: [address("X@Y.z")], to: [address("me@acme.com")]))
        let c = MessageKey.of(envelope(from: [address("x@y.z")], to: [address("me@acme.com")], subject: "Other"))
        #expect(a.hasPrefix("fp:") && a.count == 67)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("a huge Message-ID is hashed, keeping keys short")
    func hugeID() {
        let key = MessageKey.of(envelope(from: [], messageID: "<" + String(repeating: "x", count: 5000) + "@y>"))
        #expect(key.hasPrefix("midh:") && key.utf8.count < 100)
    }
}

@Suite("Classifying mail")
struct ClassificationTests {
    let directory = CompanyDirectory(
        ownerAddresses: ["Me@Acme.com"], userAddresses: ["colleague@acme.com", "contractor@gmail.com"], domains: ["ACME.com"],
        preventInternalEmailSync: true)

    @Test("only a message naming nobody is unmatchable; a sender without recipients, or recipients without a sender, is a candidate")
    func unmatchable() {
        guard case .unmatchable = MailClassification.classify(envelope(from: []), inSentFolder: false, directory: directory) else {
            Issue.record("no From and no recipients should be unmatchable"); return
        }
        // Bcc delivery, undisclosed-recipients, servers that strip To: mail received from the lead.
        guard case .candidate(let bcc) = MailClassification.classify(envelope(from: [address("lead@x.com")]), inSentFolder: false, directory: directory) else {
            Issue.record("a lead's mail without To is a candidate"); return
        }
        #expect(bcc.direction == .received && bcc.lookupAddresses == ["lead@x.com"])
        guard case .candidate(let noFrom) = MailClassification.classify(envelope(from: [], to: [address("lead@x.com")]), inSentFolder: true, directory: directory) else {
            Issue.record("recipients without a From is a candidate"); return
        }
        #expect(noFrom.direction == .sent)
    }

    @Test("every address is looked up (a lead listed 250th included); display keeps 200 plus the matched and the owner")
    func manyParticipants() {
        let strangers = (0..<300).map { address("s\($0)@strangers.example") }
        let mail = envelope(from: [address("me@acme.com")], to: strangers + [address("lead@x.com")])
        guard case .candidate(let candidate) = MailClassification.classify(mail, inSentFolder: false, directory: directory) else {
            Issue.record("should be a candidate"); return
        }
        #expect(candidate.lookupAddresses.contains("lead@x.com"))
        #expect(candidate.lookupAddresses.count == 301)
        let shown = MailParticipant.forDisplay(candidate.participants, keeping: ["lead@x.com", "me@acme.com"])
        #expect(shown.count == 201)
        #expect(shown.last?.address == "lead@x.com")
        #expect(shown.first?.address == "me@acme.com")
    }

    @Test("in-house mail is skipped only when the company says so")
    func internalMail() {
        let mail = envelope(from: [address("me@acme.com")], to: [address("colleague@acme.com"), address("contractor@gmail.com")])
        #expect(MailClassification.classify(mail, inSentFolder: false, directory: directory) == .internalOnly)
        let open = CompanyDirectory(ownerAddresses: ["me@acme.com"], userAddresses: [], domains: ["acme.com"], preventInternalEmailSync: false)
        guard case .candidate = MailClassification.classify(mail, inSentFolder: false, directory: open) else {
            Issue.record("recorded when the setting is off"); return
        }
        let withLead = envelope(from: [address("me@acme.com")], to: [address("colleague@acme.com"), address("lead@client.io")])
        guard case .candidate = MailClassification.classify(withLead, inSentFolder: false, directory: directory) else {
            Issue.record("one outside participant makes it a candidate"); return
        }
    }

    @Test("direction: the sent folder or the owner's From address means sent; lookups exclude the owner")
    func direction() throws {
        let received = MailClassification.classify(envelope(from: [address("lead@client.io")], to: [address("me@acme.com")]), inSentFolder: false, directory: directory)
        let sentByFrom = MailClassification.classify(envelope(from: [address("ME@acme.com")], to: [address("lead@client.io")]), inSentFolder: false, directory: directory)
        let sentByFolder = MailClassification.classify(envelope(from: [address("alias@acme.com")], to: [address("lead@client.io")]), inSentFolder: true, directory: directory)
        guard case .candidate(let r) = received, case .candidate(let s1) = sentByFrom, case .candidate(let s2) = sentByFolder else {
            Issue.record("all three are candidates"); return
        }
        #expect(r.direction == .received && s1.direction == .sent && s2.direction == .sent)
        #expect(r.lookupAddresses == ["lead@client.io"])
        #expect(s1.lookupAddresses == ["lead@client.io"])
    }
}

@Suite("Address normalization: the ASCII fast path agrees with the general one")
struct NormalizationAgreementTests {
    @Test("same answers for ASCII input, including junk", arguments: [
        "Jane@Example.COM", "  jane@example.com\t", "a@b", "@b", "a@", "a b@c.d", "a@b@c.d", "", " ", "x\u{1}@y.z", "X@Y.Z\r\n",
    ])
    func agree(_ text: String) {
        let expected: String? = {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.utf8.count <= 320, let at = trimmed.lastIndex(of: "@"),
                  at != trimmed.startIndex, trimmed.index(after: at) != trimmed.endIndex,
                  !trimmed.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
            else { return nil }
            return trimmed.lowercased()
        }()
        #expect(EmailAddress.normalize(text) == expected)
    }

    @Test("non-ASCII addresses take the general path")
    func unicode() {
        #expect(EmailAddress.normalize(" Jürgen@Beispiel.DE ") == "jürgen@beispiel.de")
    }
}
