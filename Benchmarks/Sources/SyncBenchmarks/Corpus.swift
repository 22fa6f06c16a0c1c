import Foundation
import TestSupport

/// Deterministic, realistic-looking mail: plain-text bodies of 1–3 KB, varied subjects (some as
/// RFC 2047 encoded words), a Message-ID each, the odd Cc and In-Reply-To.
enum Corpus {
    /// The benchmark's clock starts here (2026-09-21); mail is dated in the 29 days before it, so
    /// all of it is inside the default 30-day backfill.
    static let start: Double = 1_790_000_000

    static func leadAddress(_ n: Int, company: Int = 0) -> String { "lead\(n)@customer\(n % 37)-\(company).example" }
    static func strangerAddress(_ n: Int) -> String { "person\(n)@vendor\(n % 53).example" }

    private static let firstNames = ["Ada", "Bram", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hiro", "Inès", "Jonas", "Kaja", "Luis"]
    private static let lastNames = ["Lovelace", "Moolenaar", "Dubois", "Ivanov", "Nilsson", "Haddad", "Berg", "Tanaka", "Moreau", "Weber"]
    private static let words = """
        the quote order invoice meeting schedule shipment contract renewal pricing discount team \
        update please find attached regards thanks follow call tomorrow week proposal details \
        delivery account support ticket review draft budget forecast quarter numbers agenda notes \
        we you our your can will would could should about with from this that there their next
        """.split(separator: " ").map(String.init)

    /// A subject; about one in five is an encoded word (UTF-8 base64, UTF-8 Q, Latin-1 Q).
    static func subject(_ n: Int, rng: inout SplitMix64) -> String {
        switch rng.next() % 10 {
        case 0: return "=?UTF-8?B?\(Data("Grüße aus München – Angebot \(n)".utf8).base64EncodedString())?="
        case 1: return "Re: =?UTF-8?Q?R=C3=A9union_du_lundi?= #\(n)"
        case 2: return "=?ISO-8859-1?Q?Caf=E9_order?= \(n) =?ISO-8859-1?Q?conf=EDrmed?="
        case 3: return "Re: Quote for order #\(n)"
        case 4: return "Fwd: Invoice \(n) for September"
        case 5: return "Meeting next week about the \(words[n % words.count]) plan"
        case 6: return "Re: Re: Shipment \(n) delayed"
        case 7: return "Your \(words[(n * 7) % words.count]) request (ticket \(n))"
        case 8: return "Quick question"
        default: return "Proposal \(n): \(words[n % words.count]) and \(words[(n * 3) % words.count]) for Q4, with the numbers we discussed"
        }
    }

    static func name(_ n: Int) -> String {
        "\(firstNames[n % firstNames.count]) \(lastNames[(n / firstNames.count) % lastNames.count])"
    }

    private static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }()

    /// One message as CRLF text.
    static func message(
        number n: Int, from: String, fromName: String, to: String, cc: String?, date: Date, domain: String, rng: inout SplitMix64
    ) -> String {
        var text = "Return-Path: <\(from)>\r\n"
        text += "From: \(fromName) <\(from)>\r\nTo: \(to)\r\n"
        if let cc { text += "Cc: \(cc)\r\n" }
        text += "Subject: \(subject(n, rng: &rng))\r\n"
        text += "Date: \(dateFormatter.string(from: date))\r\n"
        text += "Message-ID: <\(n).\(rng.next() % 1_000_000)@\(domain)>\r\n"
        if rng.next() % 3 == 0 { text += "In-Reply-To: <\(max(0, n - 7)).reply@\(domain)>\r\n" }
        text += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        let target = 1_000 + Int(rng.next() % 2_000)
        var body = "Hello,\r\n\r\n"
        var line = ""
        while body.utf8.count + line.utf8.count < target {
            line += words[Int(rng.next() % UInt64(words.count))]
            if line.utf8.count > 68 {
                body += line + "\r\n"
                line = ""
            } else {
                line += " "
            }
        }
        body += line + "\r\n\r\nBest regards,\r\n\(fromName)\r\n"
        return text + body
    }

    /// Seeds `user`'s INBOX with `count` messages dated over the 29 days before `start`, oldest
    /// first; every tenth (0, 10, 20, …) comes from one of `leads`, the rest from strangers.
    static func seed(
        _ dovecot: DovecotServer, user: String, owner: String, count: Int, leads: [String], seed: UInt64
    ) async throws {
        var rng = SplitMix64(seed: seed)
        let span = 29.0 * 86_400
        for n in 0..<count {
            let date = Date(timeIntervalSince1970: start - span + span * Double(n) / Double(max(1, count)))
            let fromLead = n % 10 == 0
            let stranger = Int(rng.next() % 5_000)
            let from = fromLead ? leads[(n / 10) % leads.count] : strangerAddress(stranger)
            let cc: String? = rng.next() % 6 == 0 ? strangerAddress(Int(rng.next() % 5_000)) : nil
            let text = message(
                number: n, from: from, fromName: name(fromLead ? n / 10 : stranger), to: owner, cc: cc, date: date,
                domain: "mail." + (from.split(separator: "@").last.map(String.init) ?? "example"), rng: &rng)
            try await dovecot.append(user: user, message: text, date: date)
        }
    }
}
