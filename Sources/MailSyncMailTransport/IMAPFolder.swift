import MailSyncIMAP

/// A folder to sync: its raw (modified UTF-7) name as the server lists it, for commands, and for
/// display.
public struct IMAPFolder: Sendable, Hashable {
    /// The name's bytes exactly as the server listed them; what commands send (quoted).
    public var rawName: [UInt8]
    /// The name for people: modified UTF-7 decoded.
    public var name: String
    /// The RFC 6154 special use the server declared, if any.
    public var specialUse: MailboxListing.SpecialUse?

    public init(rawName: [UInt8], name: String, specialUse: MailboxListing.SpecialUse?) {
        self.rawName = rawName
        self.name = name
        self.specialUse = specialUse
    }

    /// The folder a `* LIST` response describes.
    public init(_ listing: MailboxListing) {
        self.init(rawName: listing.rawName, name: listing.name, specialUse: listing.specialUse)
    }

    /// `INBOX`, always present (RFC 3501), named the same on every server.
    public static let inbox = IMAPFolder(rawName: Array("INBOX".utf8), name: "INBOX", specialUse: nil)

    /// True for INBOX in any case (`inbox`, `Inbox`): RFC 3501 makes that name case-insensitive.
    public var isInbox: Bool { rawName.count == 5 && String(decoding: rawName, as: UTF8.self).uppercased() == "INBOX" }
}

/// The folders the sync reads: INBOX, and the sent folder found by SPECIAL-USE `\Sent`, else by
/// the usual names ("Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail", case-insensitive,
/// also under an "INBOX<delim>" prefix); `nil` if none.
public struct SyncFolders: Sendable, Hashable {
    public var inbox: IMAPFolder
    public var sent: IMAPFolder?

    public init(inbox: IMAPFolder, sent: IMAPFolder?) {
        self.inbox = inbox
        self.sent = sent
    }
}

/// UIDVALIDITY, UIDNEXT (`nil` if the server omits it) and message count of a folder.
public struct FolderState: Sendable, Hashable {
    public var uidValidity: UInt32
    public var uidNext: UInt32?
    public var messages: UInt32

    public init(uidValidity: UInt32, uidNext: UInt32?, messages: UInt32) {
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.messages = messages
    }
}
