import MailSyncErrors

/// The server's reply lines, as libcurl saw them, grouped into replies.
enum SMTPTranscript {
    /// Consecutive lines `NNN-…` up to the line `NNN …` (or just `NNN`) make one reply
    /// (RFC 5321 §4.2.1). Lines that do not start with three digits are skipped.
    static func replies(_ lines: [String]) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        var pending: [String] = []
        for line in lines {
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, bytes[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { continue }
            pending.append(line)
            if bytes.count == 3 || bytes[3] != UInt8(ascii: "-") {
                if let reply = SMTPReply(reply: pending.joined(separator: "\n")) { replies.append(reply) }
                pending.removeAll()
            }
        }
        if !pending.isEmpty, let reply = SMTPReply(reply: pending.joined(separator: "\n")) { replies.append(reply) }
        return replies
    }

    /// The reply that ended the session badly: the last one that is not the `221` to our
    /// `QUIT`, when it is a 4xx or 5xx.
    static func failure(_ lines: [String]) -> SMTPReply? {
        guard let last = replies(lines).last(where: { $0.code != 221 }), last.code >= 400 else { return nil }
        return last
    }
}
