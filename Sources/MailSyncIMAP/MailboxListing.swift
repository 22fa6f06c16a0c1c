/// A `* LIST` (or `* LSUB`) response: one mailbox, its attributes and hierarchy delimiter.
public struct MailboxListing: Hashable, Sendable {
    /// Attributes as sent, e.g. `\HasNoChildren`, `\Noselect`, and RFC 6154 special-use flags.
    public var attributes: [String]
    /// The hierarchy delimiter, `nil` when the server sent NIL (flat namespace).
    public var delimiter: Character?
    /// The name's bytes as sent (modified UTF-7, or UTF-8 from servers with UTF8=ACCEPT).
    public var rawName: [UInt8]
    /// True for `* LSUB`.
    public var isSubscription: Bool

    public init(attributes: [String], delimiter: Character?, rawName: [UInt8], isSubscription: Bool = false) {
        self.attributes = attributes
        self.delimiter = delimiter
        self.rawName = rawName
        self.isSubscription = isSubscription
    }

    /// The name for display and matching: modified UTF-7 decoded; if the bytes are not valid
    /// modified UTF-7 (a UTF-8 server), they are read as UTF-8 with invalid sequences replaced.
    public var name: String {
        ModifiedUTF7.decode(rawName) ?? IMAPText.lossyUTF8(rawName)
    }

    /// The RFC 6154 special use, if an attribute declares one.
    public var specialUse: SpecialUse? {
        for attribute in attributes {
            if let use = SpecialUse(attribute: attribute) { return use }
        }
        return nil
    }

    /// RFC 6154 special-use attributes: which mailbox holds sent mail, drafts, …
    public enum SpecialUse: String, Hashable, Sendable, CaseIterable {
        case all = "\\All", archive = "\\Archive", drafts = "\\Drafts", flagged = "\\Flagged"
        case junk = "\\Junk", sent = "\\Sent", trash = "\\Trash"

        /// Matches case-insensitively, as IMAP atoms are.
        public init?(attribute: String) {
            let lowered = attribute.lowercased()
            guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else { return nil }
            self = match
        }
    }
}

/// An `* ESEARCH` response (RFC 4731).
public struct ESearchResponse: Hashable, Sendable {
    /// The tag of the command it answers, from `(TAG "a1")`.
    public var tag: String?
    /// True when the numbers are UIDs.
    public var isUID: Bool
    public var min: UInt32?
    public var max: UInt32?
    public var count: UInt32?
    /// `ALL 1:3,7`, as closed ranges in the server's order.
    public var all: [ClosedRange<UInt32>]

    public init(tag: String? = nil, isUID: Bool = false, min: UInt32? = nil, max: UInt32? = nil, count: UInt32? = nil, all: [ClosedRange<UInt32>] = []) {
        self.tag = tag
        self.isUID = isUID
        self.min = min
        self.max = max
        self.count = count
        self.all = all
    }
}

/// Decoding helpers for server text.
enum IMAPText {
    /// UTF-8 with invalid sequences replaced by U+FFFD; never fails.
    static func lossyUTF8(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
