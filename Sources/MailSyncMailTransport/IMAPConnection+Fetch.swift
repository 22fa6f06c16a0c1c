import Foundation
import MailSyncIMAP

extension IMAPConnection {
    /// UIDs greater than `afterUID` in the selected folder, ascending; with `since`, only mail
    /// whose INTERNALDATE falls on or after that day (``IMAPDate/searchDate(_:)``: the UTC day).
    ///
    /// A plain `SEARCH` answers with one line naming every UID, which for a large folder exceeds
    /// the response parser's line limit (``IMAPLimits``: 64 KiB, about 12,000 UIDs). So:
    /// - with ESEARCH (RFC 4731) advertised: `UID SEARCH RETURN (ALL) UID <afterUID+1>:* [SINCE d]`,
    ///   whose answer is compact ranges — one round trip;
    /// - otherwise, when `upTo` (the folder's highest UID, e.g. UIDNEXT − 1) is known, the range
    ///   is searched in windows of `window` UIDs (default 5,000), pipelined — one round trip;
    /// - otherwise one `UID SEARCH UID <afterUID+1>:*`.
    ///
    /// `n:*` always matches the highest UID even when it is below n: such UIDs are dropped here.
    /// An answer naming more than ``UIDSearchResults/defaultLimit`` UIDs (a broken or hostile
    /// server: ESEARCH ranges are compact) fails as an unreadable response, a temporary error,
    /// before the UIDs are expanded in memory.
    /// With `afterUID` at `UInt32.max` nothing can follow: `[]` without asking. Needs a selected
    /// folder (``examine(_:)``); throws what ``pipeline(_:timeout:budget:)`` throws. `useESearch` forces
    /// a path (tests); nil asks the server's capabilities.
    public func uidSearch(
        afterUID: UInt32, since: Date?, upTo: UInt32? = nil, window: UInt32 = 5000, useESearch: Bool? = nil
    ) async throws(IMAPConnectionError) -> [UInt32] {
        guard afterUID < UInt32.max else { return [] }
        let criteria = since.map { " SINCE \(IMAPDate.searchDate($0))" } ?? ""
        return try await windowedSearch(first: afterUID + 1, through: nil, upTo: upTo, criteria: criteria, window: window, useESearch: useESearch)
    }

    /// UIDs from 1 to `highest` in the selected folder, ascending, of mail whose INTERNALDATE
    /// falls on or after `since`'s day and that matches `keys` (search keys the caller built
    /// safely, e.g. ``IMAPAddressSearch/criteria(_:maxLength:)``). Sent like
    /// ``uidSearch(afterUID:since:upTo:window:useESearch:)``: one `UID SEARCH RETURN (ALL)` with
    /// ESEARCH, otherwise windows of `window` UIDs pipelined (one round trip). Returns the UIDs and
    /// how many commands were sent. Throws what ``pipeline(_:timeout:budget:)`` throws.
    public func uidSearch(
        through highest: UInt32, since: Date, keys: String, window: UInt32 = 5000, useESearch: Bool? = nil
    ) async throws(IMAPConnectionError) -> (uids: [UInt32], commands: Int) {
        guard highest > 0 else { return ([], 0) }
        let criteria = " SINCE \(IMAPDate.searchDate(since)) " + keys
        let commands = try await searchCommands(first: 1, through: highest, upTo: highest, criteria: criteria, window: window, useESearch: useESearch)
        let uids = try await collect(commands, after: 0)
        return (uids.filter { $0 <= highest }, commands.count)
    }

    private func windowedSearch(
        first: UInt32, through: UInt32?, upTo: UInt32?, criteria: String, window: UInt32, useESearch: Bool?
    ) async throws(IMAPConnectionError) -> [UInt32] {
        let commands = try await searchCommands(first: first, through: through, upTo: upTo, criteria: criteria, window: window, useESearch: useESearch)
        return try await collect(commands, after: first - 1)
    }

    private func collect(_ commands: [String], after afterUID: UInt32) async throws(IMAPConnectionError) -> [UInt32] {
        let responses = try await pipeline(commands).joined()
        do {
            return try UIDSearchResults.collect(responses, after: afterUID)
        } catch {
            throw unreadable("UID SEARCH named more than \(error.limit) UIDs after \(afterUID), more than any real folder holds")
        }
    }

    /// The `UID SEARCH` commands for UIDs from `first` (to `through` when set, else to `*`).
    private func searchCommands(
        first: UInt32, through: UInt32?, upTo: UInt32?, criteria: String, window: UInt32, useESearch: Bool?
    ) async throws(IMAPConnectionError) -> [String] {
        let last = through.map { "\($0)" } ?? "*"
        var commands: [String]
        let esearch: Bool
        if let useESearch { esearch = useESearch } else { esearch = try await capabilities().contains("ESEARCH") }
        if esearch {
            commands = ["UID SEARCH RETURN (ALL) UID \(first):\(last)" + criteria]
        } else if let upTo, window > 0, upTo >= first, upTo - first >= window {
            commands = []
            var low = first
            while true {
                let (high, overflow) = low.addingReportingOverflow(window - 1)
                if overflow || high >= upTo {
                    commands.append("UID SEARCH UID \(low):\(last)" + criteria)  // the last window also catches new arrivals
                    break
                }
                commands.append("UID SEARCH UID \(low):\(high)" + criteria)
                low = high + 1
            }
        } else {
            commands = ["UID SEARCH UID \(first):\(last)" + criteria]
        }
        return commands
    }

    /// Header data for `uids` (any order in, ascending out; each UID once), from
    /// `UID FETCH <set> (UID INTERNALDATE RFC822.SIZE ENVELOPE)` in the selected folder.
    ///
    /// The UIDs are compressed into ranges and split so that no command line exceeds
    /// `maxCommandLength` bytes (``UIDSet/commands(prefix:suffix:uids:maxCommandLength:)``:
    /// some servers reject long lines); the commands are pipelined: one round trip. UIDs the
    /// folder no longer has are absent; FETCH responses for UIDs not asked for (flag updates)
    /// are ignored. The replies are held to ``IMAPReplyBudget/headers(uids:)`` (64 KiB per
    /// message + 1 MiB). Throws what ``pipeline(_:timeout:budget:)`` throws.
    public func fetchHeaders(uids: [UInt32], maxCommandLength: Int = 1000) async throws(IMAPConnectionError) -> [FetchedHeader] {
        let wanted = Set(uids)
        let commands = UIDSet.commands(
            prefix: "UID FETCH ", suffix: " (UID INTERNALDATE RFC822.SIZE ENVELOPE)", uids: uids, maxCommandLength: maxCommandLength)
        var parts: [UInt32: (date: Date?, size: UInt64?, envelope: Envelope?)] = [:]
        for responses in try await pipeline(commands, budget: .headers(uids: wanted)) {
            for response in responses {
                guard case .untagged(.fetch(_, let attributes)) = response, let uid = Self.uid(in: attributes), wanted.contains(uid)
                else { continue }
                // A server may split one message's items over several FETCH responses: merge them.
                var part = parts[uid] ?? (nil, nil, nil)
                for attribute in attributes {
                    switch attribute {
                    case .internalDate(let text): part.date = IMAPDate.parseInternalDate(text)
                    case .rfc822Size(let size): part.size = size
                    case .envelope(let envelope): part.envelope = envelope
                    default: break
                    }
                }
                parts[uid] = part
            }
        }
        return parts.compactMap { uid, part in
            part.envelope.map { FetchedHeader(uid: uid, internalDate: part.date, size: part.size ?? 0, envelope: $0) }
        }.sorted { $0.uid < $1.uid }
    }

    /// Whole raw messages keyed by UID, from `UID FETCH <set> (UID BODY.PEEK[])` in the selected
    /// folder: the exact bytes the server stores; `BODY.PEEK` never sets `\Seen`.
    ///
    /// `announced` names the messages to fetch (UID → the RFC822.SIZE the header fetch gave, 0
    /// if the server gave none). Split and pipelined as ``fetchHeaders(uids:maxCommandLength:)``
    /// (one round trip). Missing UIDs (expunged meanwhile) and messages the server answers with
    /// NIL are simply absent.
    ///
    /// Every body of the call is held in memory at once, so the replies are held to
    /// ``IMAPReplyBudget/bodies(announced:)``: no literal larger than the largest announced size
    /// plus its margin (10% + 64 KiB; checked from the literal's header, before its bytes are
    /// read), no more than all of them together plus 1 MiB. Once read, each body is checked
    /// against its own message's announced size and margin. Going over any of these throws a
    /// `ConnectionFailure` of kind `.replyOverLimit` ("sent a 52,428,800-byte message where it
    /// had announced 2,000 bytes"). Ask for a bounded number of announced bytes per call.
    /// Otherwise throws what ``pipeline(_:timeout:budget:)`` throws.
    public func fetchBodies(announced: [UInt32: UInt64], maxCommandLength: Int = 1000) async throws(IMAPConnectionError) -> [UInt32: [UInt8]] {
        let commands = UIDSet.commands(
            prefix: "UID FETCH ", suffix: " (UID BODY.PEEK[])", uids: Array(announced.keys).sorted(), maxCommandLength: maxCommandLength)
        var bodies: [UInt32: [UInt8]] = [:]
        for responses in try await pipeline(commands, budget: .bodies(announced: announced)) {
            for response in responses {
                guard case .untagged(.fetch(_, let attributes)) = response, let uid = Self.uid(in: attributes),
                    let size = announced[uid]
                else { continue }
                for attribute in attributes {
                    guard case .bodySection("", nil, let data?) = attribute else { continue }
                    if data.count > IMAPReplyBudget.bodyAllowance(announced: size) {
                        throw IMAPConnectionError(ReplyOverLimit.bodyOverAnnounced(uid: uid, size: data.count, announced: size, host: host, port: port))
                    }
                    bodies[uid] = data
                }
            }
        }
        return bodies
    }

    static func uid(in attributes: [FetchAttribute]) -> UInt32? {
        for attribute in attributes {
            if case .uid(let uid) = attribute { return uid }
        }
        return nil
    }
}
