import Foundation
import MailSyncErrors
import MailSyncIMAP
import MailSyncMailTransport
import Testing
import TestSupport

/// The sync engine's folder operations against a real Dovecot on 127.0.0.1 (one per test). The
/// fixture declares `Sent` with `special_use = \Sent`; maildir mtimes set INTERNALDATE.
@Suite("IMAPConnection folder operations")
struct IMAPFolderTests {
    static let users = [(name: "alice", password: "s3cret")]
    /// 2020-01-01 00:00:00 UTC.
    static let old = Date(timeIntervalSince1970: 1_577_836_800)

    static func message(_ subject: String, body: String = "Hello.\r\n") -> [UInt8] {
        Array(
            ("From: Lead <lead@example.com>\r\nTo: alice@example.com\r\nSubject: \(subject)\r\n"
                + "Message-ID: <\(subject)@example.com>\r\nDate: Tue, 2 Jan 2024 03:04:05 +0000\r\n\r\n\(body)").utf8)
    }

    static func connect(_ dovecot: DovecotServer) async throws -> IMAPConnection {
        try await IMAPConnection.connect(
            host: "127.0.0.1", port: dovecot.port, security: .none, username: "alice", password: "s3cret",
            timeout: .seconds(10), commandTimeout: .seconds(30), policy: .testLoopback)
    }

    @Test("syncFolders finds INBOX and Sent (\\Sent) in one round trip; STATUS over both folders is one round trip")
    func foldersAndStatus() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            for index in 1...3 { try await dovecot.append(user: "alice", message: Self.message("in\(index)")) }
            for index in 1...2 { try await dovecot.append(user: "alice", folder: "Sent", message: Self.message("out\(index)")) }
            try await dovecot.append(user: "alice", folder: "Archive", message: Self.message("archived"))
            let imap = try await Self.connect(dovecot)
            #expect(imap.roundTrips == 0,)
            let capabilities = try await imap.capabilities()
            #expect(capabilities.contains("SPECIAL-USE") && capabilities.contains("IMAP4REV1"))
            #expect(imap.roundTrips == 0, "capabilities come with the login reply")

            let folders = try await imap.syncFolders()
            #expect(imap.roundTrips == 1)
            #expect(folders.inbox.rawName == Array("INBOX".utf8) && folders.inbox.name == "INBOX")
            #expect(folders.sent == IMAPFolder(rawName: Array("Sent".utf8), name: "Sent", specialUse: .sent))
            let sent = try #require(folders.sent)

            let states = try await imap.status([folders.inbox, sent])
            #expect(imap.roundTrips == 2, "two STATUS commands, pipelined: one round trip")
            try #require(states.count == 2)
            #expect(states[0].messages == 3 && states[0].uidNext == 4 && states[0].uidValidity > 0)
            #expect(states[1].messages == 2 && states[1].uidNext == 3 && states[1].uidValidity > 0)

            // EXAMINE agrees with STATUS.
            #expect(try await imap.examine(sent) == states[1])
            #expect(try await imap.examine(folders.inbox) == states[0])
            #expect(try await imap.status([]) == [])
            #expect(imap.roundTrips == 4)

            // A folder that does not exist: the server's NO, and the connection stays usable.
            let missing = IMAPFolder(rawName: Array("Nowhere".utf8), name: "Nowhere", specialUse: nil)
            let error = await #expect(throws: IMAPConnectionError.self) { try await imap.status([folders.inbox, missing, sent]) }
            #expect(error?.diagnosis.errorClass == .configuration || error?.diagnosis.errorClass == .temporary, "\(String(describing: error))")
            #expect(error?.serverText.contains("Mailbox doesn't exist") == true, "\(String(describing: error))")
            await #expect(throws: IMAPConnectionError.self) { try await imap.examine(missing) }
            #expect(try await imap.status([sent]) == [states[1]])
            await imap.close()
        }
    }

    @Test("folder names with spaces, quotes and backslashes reach the server intact")
    func quotedNames() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let name = #"Sent Items "old" \ 2023"#
            try await dovecot.append(user: "alice", folder: name, message: Self.message("x"))
            let imap = try await Self.connect(dovecot)
            let listing = try await imap.command(#"LIST "" "*""#).compactMap { response -> MailboxListing? in
                if case .untagged(.list(let listing)) = response, listing.name == name { return listing }
                return nil
            }
            let folder = IMAPFolder(try #require(listing.first))
            #expect(try await imap.status([folder]).first?.messages == 1)
            #expect(try await imap.examine(folder).messages == 1)
            await imap.close()
        }
    }

    @Test("uidSearch: after a UID, since a day; n:* never returns a UID at or below n")
    func uidSearch() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            // UIDs 1 old, 2 new, 3 old, 4 new, 5 new.
            for (index, date) in [Self.old, Date(), Self.old.addingTimeInterval(3600), Date(), Date()].enumerated() {
                try await dovecot.append(user: "alice", message: Self.message("m\(index + 1)"), date: date)
            }
            let imap = try await Self.connect(dovecot)
            let state = try await imap.examine(.inbox)
            #expect(state.messages == 5 && state.uidNext == 6)
            #expect(try await imap.capabilities().contains("ESEARCH"))
            // The same answers whichever way the search is asked: compact ESEARCH ranges, plain
            // SEARCH in pipelined windows of two UIDs (one round trip), or one plain SEARCH.
            for (esearch, window) in [(true, UInt32(5000)), (false, UInt32(2)), (false, UInt32(5000))] {
                func search(_ after: UInt32, _ since: Date?) async throws -> [UInt32] {
                    try await imap.uidSearch(afterUID: after, since: since, upTo: 5, window: window, useESearch: esearch)
                }
                let trips = imap.roundTrips
                #expect(try await search(0, nil) == [1, 2, 3, 4, 5], "esearch \(esearch), window \(window)")
                #expect(imap.roundTrips == trips + 1)
                #expect(try await search(2, nil) == [3, 4, 5])
                let since = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01
                #expect(try await search(0, since) == [2, 4, 5])
                #expect(try await search(2, since) == [4, 5])
                #expect(try await search(0, Self.old) == [1, 2, 3, 4, 5])
                // 6:* matches UID 5 on the server: dropped here.
                #expect(try await search(5, nil) == [])
                #expect(try await search(100, since) == [])
            }
            let before = imap.roundTrips
            #expect(try await imap.uidSearch(afterUID: UInt32.max, since: nil) == [])
            #expect(imap.roundTrips == before)
            await imap.close()
        }
    }

    @Test("fetchHeaders: 1500 scattered UIDs of 3000 messages over hundreds of short lines, each once, ascending, one round trip")
    func fetchManyHeaders() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let count = 3000
            var sizes: [UInt32: Int] = [:]
            for uid in 1...count {
                let message = Self.message("m\(uid)", body: String(repeating: "x", count: uid % 97) + "\r\n")
                sizes[UInt32(uid)] = message.count
                try await dovecot.append(user: "alice", message: message, date: Self.old.addingTimeInterval(TimeInterval(uid * 60)))
            }
            let imap = try await Self.connect(dovecot)
            #expect(try await imap.examine(.inbox).messages == UInt32(count))
            let odd = Array(stride(from: UInt32(1), through: UInt32(count), by: 2))
            let before = imap.roundTrips
            let headers = try await imap.fetchHeaders(uids: odd.shuffled() + [UInt32(count + 5)], maxCommandLength: 80)
            #expect(imap.roundTrips == before + 1)
            #expect(headers.map(\.uid) == odd)
            for header in headers {
                #expect(header.envelope.subjectText == "m\(header.uid)")
                #expect(header.envelope.messageIDText == "<m\(header.uid)@example.com>")
                #expect(header.size == UInt64(sizes[header.uid]!))
                #expect(header.internalDate == Self.old.addingTimeInterval(TimeInterval(Int(header.uid) * 60)))
            }
            #expect(try await imap.fetchHeaders(uids: []) == [])
            #expect(try await imap.fetchHeaders(uids: [2, 1, 2]).map(\.uid) == [1, 2])
            await imap.close()
        }
    }

    @Test("fetchBodies: exact bytes, missing UIDs absent, \\Seen never set")
    func fetchBodies() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let messages = [
                Self.message("first"),
                Self.message("Grüße", body: "Bücher {3}\r\n) * 9 FETCH\r\nÜber 100 €\r\n"),
                Self.message("big", body: String(repeating: "line of text\r\n", count: 20_000)),
            ]
            for message in messages { try await dovecot.append(user: "alice", message: message) }
            let imap = try await Self.connect(dovecot)
            _ = try await imap.command("SELECT INBOX")  // read-write: a plain BODY[] would set \Seen here
            // A tiny limit: one UID per command, three commands pipelined.
            let announced: [UInt32: UInt64] = [3: UInt64(messages[2].count), 99: 10, 1: UInt64(messages[0].count), 2: UInt64(messages[1].count)]
            let bodies = try await imap.fetchBodies(announced: announced, maxCommandLength: 40)
            #expect(bodies == [1: messages[0], 2: messages[1], 3: messages[2]])
            let flags = try await imap.command("UID FETCH 1:* (FLAGS)").flatMap { response -> [String] in
                guard case .untagged(.fetch(_, let attributes)) = response else { return [] }
                return attributes.flatMap { attribute -> [String] in
                    if case .flags(let flags) = attribute { return flags }
                    return []
                }
            }
            #expect(!flags.contains { $0.lowercased() == "\\seen" }, "\(flags)")
            await imap.close()
        }
    }

    @Test("pipeline: untagged responses arriving meanwhile go to the running command; a NO leaves the connection in step")
    func pipelineAttribution() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            for index in 1...3 { try await dovecot.append(user: "alice", message: Self.message("m\(index)")) }
            let imap = try await Self.connect(dovecot)
            _ = try await imap.command("SELECT INBOX")
            // New mail while selected: Dovecot reports EXISTS during the next commands.
            for index in 4...5 { try await dovecot.append(user: "alice", message: Self.message("m\(index)")) }
            let before = imap.roundTrips
            let results = try await imap.pipeline(["NOOP", "UID FETCH 1:3 (UID)", "NOOP"])
            #expect(imap.roundTrips == before + 1)
            try #require(results.count == 3)
            // Each command's own completion comes last in its list, tags in order; nothing is lost.
            var tags: [String] = []
            for responses in results {
                guard case .tagged(let tag, let status) = responses.last else { Issue.record("\(responses)"); continue }
                tags.append(tag)
                #expect(status.condition == .ok)
                #expect(responses.dropLast().allSatisfy { if case .tagged = $0 { false } else { true } })
            }
            let numbers = tags.compactMap { Int($0.dropFirst()) }
            #expect(numbers.count == 3 && numbers[1] == numbers[0] + 1 && numbers[2] == numbers[1] + 1, "\(tags)")
            #expect(results.joined().contains(.untagged(.exists(5))), "\(results)")
            // Dovecot runs pipelined commands concurrently: FETCH data may precede the first
            // NOOP's completion and so count as the NOOP's. All of it is there, once.
            let fetched = results.joined().compactMap { response -> UInt32? in
                if case .untagged(.fetch(_, let attributes)) = response, case .uid(let uid)? = attributes.first { return uid }
                return nil
            }
            #expect(fetched == [1, 2, 3], "\(results)")

            let error = await #expect(throws: IMAPConnectionError.self) {
                try await imap.pipeline(["NOOP", "EXAMINE Nowhere", "NOOP"])
            }
            #expect(error?.serverText.contains("Mailbox doesn't exist") == true, "\(String(describing: error))")
            if case .tagged(_, let status)? = error?.responses.last { #expect(status.condition == .no) } else { Issue.record("\(String(describing: error))") }
            // In step: the next command gets its own completion.
            #expect(try await imap.pipeline([]) == [])
            #expect(try await imap.command("NOOP").count >= 1)
            await imap.close()
        }
    }
}
