import MailSyncErrors
import MailSyncIMAP

extension IMAPConnection {
    /// The folders to sync, from `LIST "" "*"`: see ``SyncFolders/init(choosingFrom:)``.
    ///
    /// Asks `LIST "" "*" RETURN (SPECIAL-USE)` when the server advertises SPECIAL-USE or
    /// LIST-EXTENDED (``capabilities()``; usually known from login, no extra round trip), plain
    /// `LIST "" "*"` otherwise, and plain LIST again if the server refuses the RETURN option.
    /// One round trip normally. Throws what ``command(_:timeout:budget:)`` throws.
    public func syncFolders() async throws(IMAPConnectionError) -> SyncFolders {
        let capabilities = try await capabilities()
        var responses: [MailSyncIMAP.IMAPResponse]
        if capabilities.contains("SPECIAL-USE") || capabilities.contains("LIST-EXTENDED") {
            do throws(IMAPConnectionError) {
                responses = try await command(#"LIST "" "*" RETURN (SPECIAL-USE)"#)
            } catch where error.responses.last.map(Self.isRefusal) ?? false {
                responses = try await command(#"LIST "" "*""#)
            }
        } else {
            responses = try await command(#"LIST "" "*""#)
        }
        let listings = responses.compactMap { response -> MailboxListing? in
            if case .untagged(.list(let listing)) = response { return listing }
            return nil
        }
        return SyncFolders(choosingFrom: listings)
    }

    /// UIDVALIDITY, UIDNEXT and MESSAGES of each folder, in the order given, with one
    /// `STATUS "name" (UIDVALIDITY UIDNEXT MESSAGES)` per folder, all pipelined: one round trip.
    /// No folders, no round trip.
    ///
    /// Throws what ``pipeline(_:timeout:budget:)`` throws (a folder that does not exist: the server's
    /// `NO`, class configuration); a folder name that cannot be sent (``IMAPCommandText``) or a
    /// reply without UIDVALIDITY throws before anything is returned.
    public func status(_ folders: [IMAPFolder]) async throws(IMAPConnectionError) -> [FolderState] {
        var commands: [String] = []
        for folder in folders {
            commands.append("STATUS \(try IMAPCommandText.quoted(folder)) (UIDVALIDITY UIDNEXT MESSAGES)")
        }
        let results = try await pipeline(commands)
        func statusData(_ responses: [MailSyncIMAP.IMAPResponse]) -> [StatusData] {
            responses.compactMap { response -> StatusData? in
                if case .untagged(.other("STATUS", let text)) = response { return StatusData(text) }
                return nil
            }
        }
        // Matched by name across all answers (a server running the commands concurrently may
        // send one folder's data before an earlier command's completion); failing that, the one
        // STATUS among the command's own responses.
        let all = statusData(results.flatMap { $0 })
        var states: [FolderState] = []
        for (folder, responses) in zip(folders, results) {
            let ownData = statusData(responses)
            let own = all.last { Self.sameMailbox($0.mailbox, folder.rawName) } ?? (ownData.count == 1 ? ownData[0] : nil)
            guard let own, let validity = own.items["UIDVALIDITY"].flatMap(UInt32.init(exactly:)) else {
                throw unreadable("STATUS for \(folder.name) without UIDVALIDITY")
            }
            states.append(FolderState(
                uidValidity: validity, uidNext: own.items["UIDNEXT"].flatMap(UInt32.init(exactly:)),
                messages: own.items["MESSAGES"].flatMap(UInt32.init(exactly:)) ?? 0))
        }
        return states
    }

    /// `EXAMINE "name"`: selects the folder read-only (nothing it does marks mail `\Seen`) and
    /// returns its state: UIDVALIDITY and UIDNEXT from the response codes, the message count from
    /// the last EXISTS (0 if none came). One round trip.
    ///
    /// Throws what ``command(_:timeout:budget:)`` throws (a missing folder: `NO`, class configuration),
    /// or when the reply has no UIDVALIDITY. On failure no folder is selected (RFC 3501).
    public func examine(_ folder: IMAPFolder) async throws(IMAPConnectionError) -> FolderState {
        let responses = try await command("EXAMINE \(try IMAPCommandText.quoted(folder))")
        var validity: UInt32?
        var next: UInt32?
        var messages: UInt32 = 0
        for response in responses {
            switch response {
            case .untagged(.status(let status)), .tagged(_, let status):
                if case .uidValidity(let value) = status.code { validity = value }
                if case .uidNext(let value) = status.code { next = value }
            case .untagged(.exists(let count)):
                messages = count
            default:
                break
            }
        }
        guard let validity else { throw unreadable("EXAMINE \(folder.name) without UIDVALIDITY") }
        return FolderState(uidValidity: validity, uidNext: next, messages: messages)
    }

    /// A reply the server owes but did not send in a usable form: reported like an unreadable
    /// response (class temporary), though the connection stays usable.
    func unreadable(_ detail: String) -> IMAPConnectionError {
        IMAPConnectionError(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: "unreadable server response: \(detail)")))
    }

    /// A tagged `NO` or `BAD`.
    static func isRefusal(_ response: MailSyncIMAP.IMAPResponse) -> Bool {
        guard case .tagged(_, let status) = response else { return false }
        return status.condition == .no || status.condition == .bad
    }

    /// Mailbox names compare byte for byte, except INBOX, which is case-insensitive.
    static func sameMailbox(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a == b { return true }
        let inbox = Array("INBOX".utf8)
        return a.count == 5 && b.count == 5 && a.map(upper) == inbox && b.map(upper) == inbox
    }

    private static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }
}
