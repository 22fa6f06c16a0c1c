import Foundation
import MailSyncStorage
import MailSyncWire
import NIOCore

/// A small fast deterministic generator (SplitMix64).
struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (count + 7) & ~7)
        out.withUnsafeMutableBytes { raw in
            for i in stride(from: 0, to: raw.count, by: 8) { raw.storeBytes(of: next(), toByteOffset: i, as: UInt64.self) }
        }
        out.removeLast(out.count - count)
        return out
    }
    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[below(16)] })
    }
}

/// One synced message as the sync engine stores it: `messages.body_zlib` is zlib of the extracted
/// text and `raw_zlib` zlib of the whole MIME message, both through `MailSyncWire.Compression`
/// (level 1), the function the server itself uses; so the blobs are real deflate streams that a
/// second zlib pass cannot shrink, while ids, addresses, subjects and events stay plain text.
struct SyntheticMail: Sendable {
    var key: String
    var subject: String
    var date: Int64
    var direction: Int64
    var participants: [(kind: Int64, address: String, name: String)]
    var bodyZlib: [UInt8]
    var rawZlib: [UInt8]
    var rawSize: Int64
    var leadIndex: Int
}

/// Writes realistic message text: a skewed vocabulary of made-up words (compresses about 2–3x
/// with zlib, like English mail), sentences, paragraphs, a signature, sometimes a quoted reply;
/// and MIME messages around it: Received and DKIM headers, a text and an HTML part, and in 30% of
/// messages a base64 attachment of random bytes (an already-compressed PDF or image), 5–200 KB.
struct MailFactory {
    var random: Generator
    let words: [String]
    let firstNames = ["Anna", "Ben", "Carla", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kenji", "Lena", "Marco", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara"]
    let lastNames = ["Meyer", "Okafor", "Rossi", "Dubois", "Novak", "Silva", "Tanaka", "Larsen", "Kowalski", "Haddad", "Schmidt", "Nguyen", "Olsen", "Garcia", "Brown", "Ivanova"]
    let allocator = ByteBufferAllocator()
    private var previousText: [UInt8] = []
    private var sequence = 0

    init(seed: UInt64) {
        random = Generator(state: seed)
        let syllables = ["ka", "re", "mo", "ti", "lan", "der", "pro", "sen", "ber", "qui", "ex", "ol", "am", "ist", "ion", "ment", "con", "tra", "ver", "ship",
                         "a", "in", "to", "the", "of", "and", "we", "pri", "ce", "de", "li", "ve", "ry", "or", "der", "plan", "time", "next", "week", "call"]
        var generator = Generator(state: 42)
        var words: [String] = ["the", "to", "and", "of", "a", "in", "for", "we", "you", "is", "on", "that", "this", "with", "be", "will", "please", "thanks"]
        while words.count < 3_000 {
            words.append((0..<(1 + generator.below(3))).map { _ in syllables[generator.below(syllables.count)] }.joined())
        }
        self.words = words
    }

    /// A word, most often one of the first few hundred (a Zipf-like skew).
    mutating func word() -> String { words[Int(pow(random.unit(), 3) * Double(words.count))] }

    mutating func text(bytes target: Int, signature: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(target + 600)
        out += Array("Hi \(firstNames[random.below(firstNames.count)]),\n\n".utf8)
        while out.count < target {
            for _ in 0..<(2 + random.below(4)) {
                var sentence = (0..<(6 + random.below(13))).map { _ in word() }.joined(separator: " ")
                sentence = sentence.prefix(1).uppercased() + sentence.dropFirst()
                out += Array(sentence.utf8)
                out += Array((random.chance(0.15) ? "? " : ". ").utf8)
            }
            out += [10, 10]
        }
        out += Array("Best regards,\n\(signature)\n".utf8)
        if random.chance(0.4), !previousText.isEmpty {
            out += Array("\nOn Tue, 3 Nov 2026 at 10:12, \(signature) wrote:\n".utf8)
            for line in previousText.split(separator: 10, omittingEmptySubsequences: false).prefix(40) {
                out += [62, 32] + line + [10]
            }
        }
        previousText = Array(out.prefix(2_000))
        return out
    }

    mutating func base64Lines(_ bytes: [UInt8]) -> [UInt8] {
        let encoded = Array(Data(bytes).base64EncodedData())
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + encoded.count / 76 * 2)
        var index = 0
        while index < encoded.count {
            let end = min(index + 76, encoded.count)
            out += encoded[index..<end]
            out += [13, 10]
            index = end
        }
        return out
    }

    mutating func address(_ name: String, domain: String) -> String {
        name.lowercased().replacingOccurrences(of: " ", with: ".") + "@" + domain
    }

    mutating func mail(leads: Int, date: Int64) -> SyntheticMail {
        sequence += 1
        let sender = firstNames[random.below(firstNames.count)] + " " + lastNames[random.below(lastNames.count)]
        let senderAddress = address(sender, domain: "customer\(random.below(400)).example")
        var participants: [(kind: Int64, address: String, name: String)] = [(0, senderAddress, sender)]
        for position in 0..<(1 + random.below(4)) {
            let name = firstNames[random.below(firstNames.count)] + " " + lastNames[random.below(lastNames.count)]
            participants.append((position == 0 ? 1 : 2, address(name, domain: random.chance(0.5) ? "ourcompany.example" : "partner\(random.below(50)).example"), name))
        }
        let subject = (random.chance(0.5) ? "Re: " : "") + (0..<(3 + random.below(5))).map { _ in word() }.joined(separator: " ")
        let text = self.text(bytes: 300 + random.below(3_700), signature: sender)
        let messageID = "<\(random.hex(16)).\(sequence)@mail.customer.example>"
        var raw: [UInt8] = []
        raw.reserveCapacity(text.count * 3 + 4_000)
        raw += Array("Return-Path: <\(senderAddress)>\r\n".utf8)
        for hop in 0..<3 {
            raw += Array("Received: from mail-\(random.below(900)).relay\(hop).example (mail-\(random.below(900)).relay\(hop).example [10.\(random.below(255)).\(random.below(255)).\(random.below(255))])\r\n\tby mx\(hop).ourcompany.example with ESMTPS id \(random.hex(12)); Tue, 3 Nov 2026 10:\(10 + random.below(50)):\(10 + random.below(50)) +0000\r\n".utf8)
        }
        raw += Array("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=customer.example; s=s1; h=from:to:subject:date:message-id;\r\n\tbh=\(Data(random.bytes(32)).base64EncodedString());\r\n\tb=".utf8)
        raw += base64Lines(random.bytes(256))
        raw += Array("From: \"\(sender)\" <\(senderAddress)>\r\nTo: \(participants[1].name) <\(participants[1].address)>\r\n".utf8)
        if participants.count > 2 {
            raw += Array("Cc: \(participants[2...].map { "\($0.name) <\($0.address)>" }.joined(separator: ", "))\r\n".utf8)
        }
        raw += Array("Subject: \(subject)\r\nDate: Tue, 3 Nov 2026 10:12:00 +0000\r\nMessage-ID: \(messageID)\r\nMIME-Version: 1.0\r\n".utf8)
        let outer = "b1_" + random.hex(24)
        let inner = "b2_" + random.hex(24)
        raw += Array("Content-Type: multipart/mixed; boundary=\"\(outer)\"\r\n\r\n--\(outer)\r\nContent-Type: multipart/alternative; boundary=\"\(inner)\"\r\n\r\n".utf8)
        raw += Array("--\(inner)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".utf8) + text
        raw += Array("\r\n--\(inner)\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><meta charset=\"utf-8\"><style>p{margin:0 0 1em 0;font-family:Arial,sans-serif}</style></head><body><div dir=\"ltr\">".utf8)
        for paragraph in text.split(separator: 10) {
            raw += Array("<p style=\"font-size:14px;color:#222\">".utf8) + paragraph + Array("</p>\r\n".utf8)
        }
        raw += Array("</div></body></html>\r\n--\(inner)--\r\n".utf8)
        if random.chance(0.3) {
            let size = Int(5_000 * pow(40, random.unit()))
            raw += Array("--\(outer)\r\nContent-Type: application/pdf; name=\"document-\(random.hex(6)).pdf\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\n".utf8)
            raw += base64Lines(random.bytes(size))
        }
        raw += Array("--\(outer)--\r\n".utf8)
        return SyntheticMail(
            key: "mid:" + messageID.dropFirst().dropLast(), subject: subject, date: date, direction: random.chance(0.4) ? 2 : 1,
            participants: participants, bodyZlib: compress(text), rawZlib: compress(raw), rawSize: Int64(raw.count),
            leadIndex: random.below(leads))
    }

    func compress(_ bytes: [UInt8]) -> [UInt8] {
        Array(Compression.compress(allocator.buffer(bytes: bytes), allocator: allocator).readableBytesView)
    }
}

/// The tenant's people and mailboxes: `users` users with one mailbox each, `leads` leads with
/// two addresses each, an open opportunity on every fifth lead.
struct Directory: Sendable {
    var users: [String]
    var mailboxes: [String]
    var leads: [String]

    static func make(users: Int = 20, leads: Int = 5_000) -> Directory {
        Directory(
            users: (0..<users).map { "user-\($0)" }, mailboxes: (0..<users).map { String(format: "6d61696c-0000-4000-8000-%012x", $0) },
            leads: (0..<leads).map { "lead-\($0)" })
    }

    func insert(_ db: SQLiteConnection, now: Int64) throws {
        for (index, user) in users.enumerated() {
            try db.run("INSERT INTO users(id, name, email, role, active, created_at) VALUES (?, ?, ?, 1, 1, ?)",
                       [.text(user), .text("User \(index)"), .text("user\(index)@ourcompany.example"), .integer(now)])
            try db.run("""
                INSERT INTO mailboxes(id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security,
                    smtp_host, smtp_port, smtp_security, username, secret, status, status_since, created_at, next_sync_at)
                VALUES (?, ?, ?, 1, 1, 'imap.ourcompany.example', 993, 1, 'smtp.ourcompany.example', 465, 1, ?, ?, 1, ?, ?, ?)
                """, [.text(mailboxes[index]), .text(user), .text("user\(index)@ourcompany.example"), .text("user\(index)"),
                      .blob(Array(repeating: 7, count: 60)), .integer(now), .integer(now), .integer(now)])
        }
        for (index, lead) in leads.enumerated() {
            try db.run("INSERT INTO leads(id, name, company_name, updated_at) VALUES (?, ?, ?, ?)",
                       [.text(lead), .text("Lead \(index)"), .text("Customer \(index % 400)"), .integer(now)])
            for n in 0..<2 {
                try db.run("INSERT INTO lead_addresses(address, lead_id) VALUES (?, ?)", [.text("contact\(n).\(index)@customer\(index % 400).example"), .text(lead)])
            }
            if index % 5 == 0 {
                try db.run("INSERT INTO opportunities(id, lead_id, name, status, updated_at) VALUES (?, ?, ?, 1, ?)",
                           [.text("opp-\(index)"), .text(lead), .text("Deal \(index)"), .integer(now)])
            }
        }
    }

    /// One recorded mail, the rows the sync engine writes for it (SyncStore.record/linkLeads):
    /// `messages`, a timeline entry with its participants and source, opportunity links,
    /// `mailbox_messages`, an EMAIL_RECORDED sync event.
    func record(_ db: SQLiteConnection, _ mail: SyntheticMail, mailboxIndex: Int, uid: Int64, now: Int64) throws {
        let mailbox = mailboxes[mailboxIndex], user = users[mailboxIndex], lead = leads[mail.leadIndex]
        try db.run("INSERT INTO messages(message_key, body_zlib, raw_zlib, size) VALUES (?, ?, ?, ?)",
                   [.text(mail.key), .blob(mail.bodyZlib), .blob(mail.rawZlib), .integer(mail.rawSize)])
        let entry = UUID().uuidString.lowercased()
        try db.run("""
            INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(entry), .text(lead), .text(mail.key), .text(mailbox), .text(user), .text(mail.subject), .integer(mail.date), .integer(mail.direction)])
        for (position, participant) in mail.participants.enumerated() {
            try db.run("INSERT INTO timeline_participants VALUES (?, ?, ?, ?, ?)",
                       [.text(entry), .integer(Int64(position)), .integer(participant.kind), .text(participant.address), .text(participant.name)])
        }
        try db.run("INSERT INTO timeline_sources(entry_id, mailbox_id, user_id, direction) VALUES (?, ?, ?, ?)",
                   [.text(entry), .text(mailbox), .text(user), .integer(mail.direction)])
        try db.run("INSERT OR IGNORE INTO opportunity_links(entry_id, opportunity_id) SELECT ?, id FROM opportunities WHERE lead_id = ? AND status = 1",
                   [.text(entry), .text(lead)])
        try db.run("INSERT INTO mailbox_messages(mailbox_id, message_key, folder, uid, recorded_at) VALUES (?, ?, 'INBOX', ?, ?)",
                   [.text(mailbox), .text(mail.key), .integer(uid), .integer(now)])
        try db.run("""
            INSERT INTO sync_events(id, time, kind, mailbox_id, user_id, status, emails_synced, detail) VALUES (?, ?, 3, ?, ?, 1, 1, ?)
            """, [.text(UUID().uuidString.lowercased()), .integer(now), .text(mailbox), .text(user),
                  .text("\(mail.direction == 2 ? "sent" : "received") “\(mail.subject.prefix(120))” recorded on lead \(lead)")])
    }
}

/// Fills a new tenant to `targetBytes` (file size after a checkpoint) in transactions of 100
/// mails, as a first sync would. Returns how many mails were written.
func fill(pool: TenantPool, tenant: TenantID, directory: Directory, targetBytes: UInt64) async throws -> Int {
    let lease = try await pool.create(tenant)
    defer { lease.release() }
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
    try await lease.write { db in try directory.insert(db, now: now) }
    var factory = MailFactory(seed: 7)
    var written = 0
    var size: UInt64 = 0
    var lastReport = ContinuousClock.now
    while size < targetBytes {
        var batch: [SyntheticMail] = []
        for _ in 0..<100 {
            batch.append(factory.mail(leads: directory.leads.count, date: now - Int64(factory.random.below(365 * 86_400)) * 1_000_000))
        }
        let first = written
        size = try await lease.write { [batch] db in
            for (offset, mail) in batch.enumerated() {
                try directory.record(db, mail, mailboxIndex: (first + offset) % directory.mailboxes.count, uid: Int64(first + offset + 1), now: now)
            }
            let pages = try db.scalar("PRAGMA page_count")?.int64 ?? 0
            let pageSize = try db.scalar("PRAGMA page_size")?.int64 ?? 4096
            return UInt64(pages * pageSize)
        }
        written += batch.count
        if ContinuousClock.now - lastReport > .seconds(10) {
            lastReport = ContinuousClock.now
            print(String(format: "  … %d mails, %.0f MiB", written, mib(size)))
        }
    }
    try await lease.read { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
    return written
}
