import MailSyncIMAP

/// The last lines of a connection's exchange with its server, redacted, for the error log: what
/// was asked and answered just before a failure, so an admin (and support) can see where it went
/// wrong without a packet capture.
///
/// What is kept: our commands (`C: a7 UID FETCH 1:500 (UID ENVELOPE)`; the login is libcurl's
/// and shows as `C: (login by libcurl: credentials withheld)`), and the server's responses
/// rendered from what was parsed: status lines with their text, counts, folder names,
/// capabilities, and for FETCH only the attribute names and sizes. What never is: passwords,
/// tokens and anything base64 a login exchanges (continuation lines are withheld), message
/// bodies and headers (FETCH data shows as `BODY[] 5123 bytes withheld`), and `* OTHER` lines'
/// text past their keyword. Lines are cut at ``maxLineLength`` characters, control characters
/// become spaces; at most ``capacity`` lines are kept, the oldest dropped first.
public struct IMAPExchangeLog: Sendable, Equatable {
    /// Lines kept. Default 24.
    public static let capacity = 24
    /// Longest line kept, in characters. Default 200.
    public static let maxLineLength = 200
    /// The line standing for libcurl's login.
    public static let loginLine = "C: (login by libcurl: credentials withheld)"

    public private(set) var lines: [String] = []

    public init() {}

    /// The login phase as libcurl saw it: the server's lines only (`CURLINFO_HEADER_IN`).
    public init(loginTranscript: [String]) {
        append(Self.loginLine)
        for line in loginTranscript { append("S: " + Self.redactedServerLine(line)) }
    }

    public mutating func command(_ tagged: String) { append("C: " + tagged) }

    public mutating func response(_ response: IMAPResponse) { append("S: " + Self.render(response)) }

    mutating func append(_ line: String) {
        let printable = String(String.UnicodeScalarView(line.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        lines.append(printable.count > Self.maxLineLength ? String(printable.prefix(Self.maxLineLength)) + "…" : printable)
        if lines.count > Self.capacity { lines.removeFirst(lines.count - Self.capacity) }
    }

    /// A raw server line from the login phase: a continuation (`+ …`, which may carry a SASL
    /// challenge or error) is withheld; anything else is kept as sent.
    static func redactedServerLine(_ line: String) -> String {
        line.hasPrefix("+") ? "+ (continuation withheld)" : line
    }

    static func render(_ response: IMAPResponse) -> String {
        switch response {
        case .tagged(let tag, let status): return "\(tag) \(status.condition.rawValue) \(status.text)"
        case .continuation: return "+ (continuation withheld)"
        case .untagged(let untagged):
            switch untagged {
            case .status(let status): return "* \(status.condition.rawValue) \(status.text)"
            case .capability(let names): return "* CAPABILITY " + names.joined(separator: " ")
            case .flags(let flags): return "* FLAGS (" + flags.joined(separator: " ") + ")"
            case .exists(let n): return "* \(n) EXISTS"
            case .recent(let n): return "* \(n) RECENT"
            case .expunge(let n): return "* \(n) EXPUNGE"
            case .list(let listing): return "* LIST \"\(listing.name)\""
            case .search(let numbers): return "* SEARCH (\(numbers.count) numbers)"
            case .esearch: return "* ESEARCH (…)"
            case .fetch(let n, let attributes): return "* \(n) FETCH (" + attributes.map(render).joined(separator: " ") + ")"
            case .other(let keyword, _): return "* \(keyword) (…)"
            }
        }
    }

    static func render(_ attribute: FetchAttribute) -> String {
        switch attribute {
        case .uid(let uid): "UID \(uid)"
        case .flags(let flags): "FLAGS (" + flags.joined(separator: " ") + ")"
        case .internalDate: "INTERNALDATE"
        case .rfc822Size(let size): "RFC822.SIZE \(size)"
        case .envelope: "ENVELOPE (withheld)"
        case .bodySection(let section, _, let data): "BODY[\(section)] \(data?.count ?? 0) bytes withheld"
        case .other(let name, _): "\(name) (withheld)"
        }
    }
}
