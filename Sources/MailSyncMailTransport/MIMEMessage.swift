import Foundation

/// An email as Smart Mail sends it, built into the exact bytes that go into SMTP `DATA`.
///
/// Pure: no I/O, no clock (the date is a field), the same fields give the same bytes. The output
/// is 7-bit US-ASCII with CRLF line ends, every line at most 998 characters (headers folded at
/// 78 where the words allow, quoted-printable at 76), ending in CRLF:
///
/// - `Date` (``RFC5322Date``), `From`, `To`, `Cc` (when any), `Subject`, `Message-ID`,
///   `MIME-Version: 1.0`; names and subject in RFC 2047 encoded words when not plain ASCII
///   (``MIMEHeaderEncoding``).
/// - One `text/plain` or `text/html` part (`charset=utf-8`), or both in `multipart/alternative`
///   (plain first, as RFC 2046 asks), each quoted-printable or base64 (``MIMEBodyEncoding``).
///
/// Header injection is impossible: addresses must pass ``MailAddressSyntax`` (no CR, LF, spaces or
/// angle brackets) or ``build()`` throws; CR, LF and other control characters in names and the
/// subject become spaces. Bcc is not supported (Smart Mail has no Bcc).
public struct MIMEMessage: Sendable {
    /// A mailbox in a header: an optional display name (any Unicode) and an address.
    public struct Address: Sendable, Hashable {
        public var name: String
        public var address: String

        public init(_ address: String, name: String = "") {
            self.name = name
            self.address = address
        }
    }

    public var from: Address
    public var to: [Address]
    public var cc: [Address]
    public var subject: String
    public var date: Date
    /// The zone the `Date` header is written in. Default UTC.
    public var timeZone: TimeZone
    /// The plain-text body; `nil` for none.
    public var textBody: String?
    /// The HTML body; `nil` for none.
    public var htmlBody: String?
    /// The `Message-ID` without angle brackets: `<uuid>@<the From address's domain>` by default.
    public var messageID: String
    /// The multipart boundary (only used with both bodies): `=_mailsync_<32 hex digits>` by
    /// default. `=_` cannot occur in quoted-printable or base64 output, so it never collides.
    public var boundary: String

    public init(
        from: Address, to: [Address], cc: [Address] = [], subject: String, textBody: String? = nil, htmlBody: String? = nil,
        date: Date, timeZone: TimeZone = TimeZone(identifier: "UTC")!, messageID: String? = nil, boundary: String? = nil
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.date = date
        self.timeZone = timeZone
        let domain = from.address.split(separator: "@").last.map(String.init) ?? "localhost"
        self.messageID = messageID ?? "\(UUID().uuidString.lowercased())@\(domain.lowercased())"
        self.boundary = boundary ?? "=_mailsync_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// The `Message-ID` header's value: `<` ``messageID`` `>`.
    public var messageIDHeader: String { "<\(messageID)>" }

    /// Every envelope recipient: To then Cc, each address once (compared ignoring case).
    public var recipients: [String] {
        var seen = Set<String>()
        return (to + cc).map(\.address).filter { seen.insert($0.lowercased()).inserted }
    }

    /// The message's bytes. Throws ``MIMEMessageError`` for an address that may not be sent, no
    /// recipient, no body, or a message id or boundary that is not safe to write.
    public func build() throws(MIMEMessageError) -> [UInt8] {
        try check(from, field: "from")
        guard !to.isEmpty || !cc.isEmpty else { throw .noRecipients }
        for (index, address) in to.enumerated() { try check(address, field: "to[\(index)]") }
        for (index, address) in cc.enumerated() { try check(address, field: "cc[\(index)]") }
        guard textBody != nil || htmlBody != nil else { throw .noBody }
        guard Self.isSafeMessageID(messageID) else { throw .invalidMessageID(messageID) }
        guard Self.isSafeBoundary(boundary) else { throw .invalidBoundary(boundary) }

        var head = "Date: \(RFC5322Date.format(date, timeZone: timeZone))\r\n"
        head += MIMEHeaderEncoding.addressList("From", [from])
        if !to.isEmpty { head += MIMEHeaderEncoding.addressList("To", to) }
        if !cc.isEmpty { head += MIMEHeaderEncoding.addressList("Cc", cc) }
        head += MIMEHeaderEncoding.unstructured("Subject", subject)
        head += "Message-ID: \(messageIDHeader)\r\n"
        head += "MIME-Version: 1.0\r\n"

        var bytes = Array(head.utf8)
        switch (textBody, htmlBody) {
        case (let text?, let html?):
            bytes += Array("Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n".utf8)
            for (subtype, body) in [("plain", text), ("html", html)] {
                bytes += Array("--\(boundary)\r\n".utf8)
                bytes += Self.part(subtype: subtype, body: body)
            }
            bytes += Array("--\(boundary)--\r\n".utf8)
        case (let text?, nil):
            bytes += Self.part(subtype: "plain", body: text)
        case (nil, let html?):
            bytes += Self.part(subtype: "html", body: html)
        case (nil, nil):
            throw .noBody
        }
        return bytes
    }

    /// `Content-Type` and `Content-Transfer-Encoding`, a blank line and the encoded body (which
    /// ends in CRLF: in a multipart that CRLF belongs to the next boundary line).
    static func part(subtype: String, body: String) -> [UInt8] {
        let encoding = MIMEBodyEncoding.choose(for: body)
        let head = "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: \(encoding.headerValue)\r\n\r\n"
        return Array(head.utf8) + encoding.encode(body)
    }

    private func check(_ address: Address, field: String) throws(MIMEMessageError) {
        guard MailAddressSyntax.isValid(address.address) else { throw .invalidAddress(field: field, address.address) }
    }

    /// `left@right`, printable ASCII without spaces, brackets or quotes, at most 250 characters.
    static func isSafeMessageID(_ id: String) -> Bool {
        guard (3...250).contains(id.utf8.count), id.contains("@") else { return false }
        return id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"<>\"\\()[],;:".utf8.contains($0) }
    }

    /// RFC 2046 §5.1.1: 1–70 of `bchars`, not ending in a space (we allow no space at all).
    static func isSafeBoundary(_ boundary: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?".utf8)
        return (1...70).contains(boundary.utf8.count) && boundary.utf8.allSatisfy { allowed.contains($0) }
    }
}

/// Why a ``MIMEMessage`` cannot be built.
public enum MIMEMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `field` (`from`, `to[0]`, `cc[1]`) is not an address we can send to (see ``MailAddressSyntax``).
    case invalidAddress(field: String, String)
    case noRecipients
    case noBody
    case invalidMessageID(String)
    case invalidBoundary(String)

    public var description: String {
        switch self {
        case .invalidAddress(let field, let address):
            "\(field) must be a plain ASCII address like name@example.com, got '\(address.prefix(80))'"
        case .noRecipients: "a message needs at least one To or Cc recipient"
        case .noBody: "a message needs a text body, an HTML body, or both"
        case .invalidMessageID(let id): "the Message-ID '\(id.prefix(80))' is not of the form left@right in printable ASCII"
        case .invalidBoundary(let boundary): "the boundary '\(boundary.prefix(80))' is not 1–70 RFC 2046 boundary characters"
        }
    }
}
