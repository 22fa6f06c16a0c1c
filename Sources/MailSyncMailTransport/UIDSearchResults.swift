import MailSyncIMAP

/// The UIDs that `UID SEARCH` answers name, from `* SEARCH` and UID `* ESEARCH … ALL` responses.
public enum UIDSearchResults {
    /// Most UIDs one search may name: 5,000,000 (about 20 MB as UInt32, a few times that while
    /// collected). Far above any real folder, far below what a few bytes of ESEARCH can claim:
    /// `ALL 1:4294967295` names four billion UIDs in 12 bytes.
    public static let defaultLimit = 5_000_000

    /// The answer named more than `limit` UIDs greater than the one asked after.
    public struct TooManyUIDs: Error, Hashable, Sendable {
        public var limit: Int

        public init(limit: Int) {
            self.limit = limit
        }
    }

    /// UIDs greater than `afterUID` named by `responses`, ascending, each once.
    ///
    /// Responses of other kinds, and ESEARCH answers without `UID`, are ignored. Ranges are
    /// clipped to UIDs above `afterUID` and counted before they are expanded, so memory stays
    /// bounded by `limit` whatever the server claims.
    /// - Throws: `TooManyUIDs` when the answer names more than `limit` distinct UIDs above
    ///   `afterUID`, as soon as that is known.
    public static func collect(
        _ responses: some Sequence<IMAPResponse>, after afterUID: UInt32, limit: Int = defaultLimit
    ) throws(TooManyUIDs) -> [UInt32] {
        var found = Set<UInt32>()
        for response in responses {
            switch response {
            case .untagged(.search(let uids)):
                for uid in uids where uid > afterUID {
                    found.insert(uid)
                    if found.count > limit { throw TooManyUIDs(limit: limit) }
                }
            case .untagged(.esearch(let result)) where result.isUID:
                for range in result.all where range.upperBound > afterUID {
                    let clipped = max(range.lowerBound, afterUID + 1)...range.upperBound
                    // The union holds at least the range's UIDs: a range over the limit is refused
                    // before it is expanded, so the set never exceeds twice the limit.
                    guard clipped.count <= limit else { throw TooManyUIDs(limit: limit) }
                    found.formUnion(clipped)
                    if found.count > limit { throw TooManyUIDs(limit: limit) }
                }
            default: break
            }
        }
        return found.sorted()
    }
}
