/// One `name value` pair of a `* n FETCH (…)` response.
public enum FetchAttribute: Hashable, Sendable {
    case uid(UInt32)
    case flags([String])
    /// `INTERNALDATE "17-Jul-1996 02:44:25 -0700"`, the quoted text as sent.
    case internalDate(String)
    case rfc822Size(UInt64)
    case envelope(Envelope)
    /// `BODY[section]<origin> data`, also for `BODY.PEEK[…]` requests (servers answer `BODY[…]`)
    /// and `BINARY[…]`. `section` is the text between the brackets as sent, upper-cased
    /// (`""`, `"HEADER.FIELDS (SUBJECT FROM)"`, `"1.2"`); `data` is the raw bytes, `nil` for NIL.
    case bodySection(section: String, origin: UInt32?, data: [UInt8]?)
    /// An item not modelled here (`BODYSTRUCTURE`, `MODSEQ`, `X-GM-LABELS`, …): its name
    /// upper-cased and its value.
    case other(name: String, value: IMAPValue)
}

/// A generic IMAP value: what an unmodelled FETCH item holds.
public indirect enum IMAPValue: Hashable, Sendable {
    case `nil`
    /// An atom or number, as sent (`\Seen`, `12345`).
    case atom(String)
    /// A quoted string or literal, raw bytes.
    case string([UInt8])
    case list([IMAPValue])
}

/// The ENVELOPE of a message (RFC 3501 7.4.2): header fields parsed by the server.
///
/// Strings are the raw bytes the server sent: usually RFC 2047 encoded words, sometimes raw
/// UTF-8 or other 8-bit data. The `…Text` accessors decode them for display; none of them fails.
public struct Envelope: Hashable, Sendable {
    public var date: [UInt8]?
    public var subject: [UInt8]?
    public var from: [Address]
    public var sender: [Address]
    public var replyTo: [Address]
    public var to: [Address]
    public var cc: [Address]
    public var bcc: [Address]
    public var inReplyTo: [UInt8]?
    public var messageID: [UInt8]?

    public init(
        date: [UInt8]? = nil, subject: [UInt8]? = nil, from: [Address] = [], sender: [Address] = [],
        replyTo: [Address] = [], to: [Address] = [], cc: [Address] = [], bcc: [Address] = [],
        inReplyTo: [UInt8]? = nil, messageID: [UInt8]? = nil
    ) {
        self.date = date
        self.subject = subject
        self.from = from
        self.sender = sender
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inReplyTo = inReplyTo
        self.messageID = messageID
    }

    /// The subject for display: UTF-8 (invalid bytes replaced), then RFC 2047 words decoded.
    public var subjectText: String? { subject.map { RFC2047.decode(IMAPText.lossyUTF8($0)) } }
    public var dateText: String? { date.map(IMAPText.lossyUTF8) }
    public var messageIDText: String? { messageID.map(IMAPText.lossyUTF8) }
    public var inReplyToText: String? { inReplyTo.map(IMAPText.lossyUTF8) }
}

/// An address of an envelope: `(name adl mailbox host)`, any of them NIL.
///
/// RFC 3501 group syntax is passed through as is: a group starts with an address whose `host` is
/// `nil` and `mailbox` is the group's name, and ends with one whose `mailbox` and `host` are `nil`.
public struct Address: Hashable, Sendable {
    public var name: [UInt8]?
    public var sourceRoute: [UInt8]?
    public var mailbox: [UInt8]?
    public var host: [UInt8]?

    public init(name: [UInt8]? = nil, sourceRoute: [UInt8]? = nil, mailbox: [UInt8]? = nil, host: [UInt8]? = nil) {
        self.name = name
        self.sourceRoute = sourceRoute
        self.mailbox = mailbox
        self.host = host
    }

    /// The display name: UTF-8 (invalid bytes replaced), then RFC 2047 words decoded.
    public var nameText: String? { name.map { RFC2047.decode(IMAPText.lossyUTF8($0)) } }

    /// `mailbox@host`, or `nil` for a group marker or an address without a mailbox.
    public var emailAddress: String? {
        guard let mailbox, let host else { return nil }
        return IMAPText.lossyUTF8(mailbox) + "@" + IMAPText.lossyUTF8(host)
    }
}
