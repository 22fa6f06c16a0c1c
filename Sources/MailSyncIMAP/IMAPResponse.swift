/// One complete server response, as parsed by `IMAPParser`.
///
/// These are plain enums so the sync engine can `switch` over them; responses the parser does not
/// model are kept as `.untagged(.other(…))` rather than rejected, so a new server extension
/// never breaks a session.
public enum IMAPResponse: Hashable, Sendable {
    /// `a1 OK [CODE] text`: the completion of the command tagged `tag`.
    case tagged(tag: String, status: StatusResponse)
    /// `* …`: data or status the server sends on its own.
    case untagged(UntaggedResponse)
    /// `+ text`: the server waits for the rest of a command (literal, AUTHENTICATE, IDLE).
    /// The text is verbatim (base64 challenges included) and may be empty.
    case continuation(String)
}

/// An `* …` response.
public enum UntaggedResponse: Hashable, Sendable {
    /// `* OK/NO/BAD/BYE/PREAUTH [CODE] text`.
    case status(StatusResponse)
    /// `* CAPABILITY IMAP4rev1 IDLE …`, capabilities as sent (case kept).
    case capability([String])
    /// `* FLAGS (\Answered …)`: the flags the selected mailbox knows.
    case flags([String])
    /// `* n EXISTS`.
    case exists(UInt32)
    /// `* n RECENT`.
    case recent(UInt32)
    /// `* n EXPUNGE`: message sequence number n is gone; later numbers shift down.
    case expunge(UInt32)
    /// `* LIST …` or `* LSUB …`.
    case list(MailboxListing)
    /// `* SEARCH n n n` (message numbers or UIDs, as the command asked).
    case search([UInt32])
    /// `* ESEARCH …` (RFC 4731).
    case esearch(ESearchResponse)
    /// `* n FETCH (…)`, attributes in the server's order.
    case fetch(sequenceNumber: UInt32, attributes: [FetchAttribute])
    /// Anything else (`* STATUS`, `* ENABLED`, `* n VANISHED`, …): the keyword upper-cased and
    /// the rest of the line verbatim (literal bytes decoded as UTF-8, lossy).
    case other(keyword: String, text: String)
}

/// A status response: the condition, an optional response code and the server's text.
public struct StatusResponse: Hashable, Sendable {
    /// `OK`, `NO`, `BAD`, `BYE` or `PREAUTH`.
    public enum Condition: String, Hashable, Sendable {
        case ok = "OK", no = "NO", bad = "BAD", bye = "BYE", preauth = "PREAUTH"
    }

    public var condition: Condition
    public var code: ResponseCode?
    /// The human-readable text after the code, verbatim: no trimming, 8-bit bytes decoded as
    /// UTF-8 with invalid sequences replaced. This is what goes into the error log for NO/BAD/BYE.
    public var text: String

    public init(condition: Condition, code: ResponseCode? = nil, text: String) {
        self.condition = condition
        self.code = code
        self.text = text
    }
}

/// The bracketed code at the start of a status response's text (RFC 3501 7.1, RFC 5530).
public enum ResponseCode: Hashable, Sendable {
    case alert
    case authenticationFailed
    case capability([String])
    case uidValidity(UInt32)
    case uidNext(UInt32)
    case unseen(UInt32)
    case permanentFlags([String])
    case readOnly
    case readWrite
    case tryCreate
    /// A code not modelled here (or a known one with malformed arguments): its name upper-cased
    /// and its arguments verbatim, `nil` if it had none.
    case other(name: String, arguments: String?)
}
