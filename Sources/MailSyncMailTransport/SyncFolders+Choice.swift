import MailSyncIMAP

extension SyncFolders {
    /// Sent-folder names tried when no folder declares `\Sent`, best first. Matched
    /// case-insensitively on the decoded name, as a whole name or under `INBOX<delimiter>`
    /// (Courier, Cyrus: `INBOX.Sent`).
    public static let sentFolderNames = ["Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail"]

    /// Picks the folders to sync from a `LIST "" "*"` answer.
    ///
    /// Folders that cannot be selected (`\Noselect`, `\NonExistent`) or whose names cannot be
    /// sent in a command (``IMAPCommandText/quoted(_:)``) are never chosen. INBOX is the listed
    /// one (any case), or plain `INBOX` if the list omits it. The sent folder is the first
    /// listed with special use `\Sent`; else the best match of ``sentFolderNames`` (a top-level
    /// name before the same under `INBOX<delimiter>`, earlier list entries first on ties);
    /// else `nil`.
    public init(choosingFrom listings: [MailboxListing]) {
        let usable = listings.filter { listing in
            !listing.isSubscription
                && !listing.attributes.contains { ["\\noselect", "\\nonexistent"].contains($0.lowercased()) }
                && IMAPCommandText.canQuote(listing.rawName)
        }
        let inbox = usable.map(IMAPFolder.init).first { $0.isInbox } ?? .inbox
        if let special = usable.first(where: { $0.specialUse == .sent }) {
            self.init(inbox: inbox, sent: IMAPFolder(special))
            return
        }
        var best: (rank: Int, listing: MailboxListing)?
        for listing in usable {
            guard let rank = Self.sentNameRank(listing) else { continue }
            if best == nil || rank < best!.rank { best = (rank, listing) }
        }
        self.init(inbox: inbox, sent: best.map { IMAPFolder($0.listing) })
    }

    /// 0, 2, 4, … for a top-level match of the 1st, 2nd, 3rd … usual name; one more when under
    /// `INBOX<delimiter>`; `nil` for other names.
    static func sentNameRank(_ listing: MailboxListing) -> Int? {
        let name = listing.name.lowercased()
        var candidates = [(name, 0)]
        if let delimiter = listing.delimiter {
            let prefix = "inbox" + String(delimiter).lowercased()
            if name.hasPrefix(prefix) { candidates.append((String(name.dropFirst(prefix.count)), 1)) }
        }
        var best: Int?
        for (candidate, extra) in candidates {
            guard let index = sentFolderNames.firstIndex(where: { $0.lowercased() == candidate }) else { continue }
            let rank = index * 2 + extra
            best = min(best ?? rank, rank)
        }
        return best
    }
}
