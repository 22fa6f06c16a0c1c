import MailSyncIMAP

/// The UIDs that `UID SEARCH` answers name, from `* SEARCH` and UID `* ESEARCH … ALL` responses.
public enum UIDSearchResults {
    /// UIDs greater than `afterUID` named by `responses`, ascending, each once.
    /// Responses of other kinds, and ESEARCH answers without `UID`, are ignored.
    public static func collect(_ responses: some Sequence<IMAPResponse>, after afterUID: UInt32) -> [UInt32] {
        var found = Set<UInt32>()
        for response in responses {
            switch response {
            case .untagged(.search(let uids)): found.formUnion(uids)
            case .untagged(.esearch(let result)) where result.isUID:
                for range in result.all { found.formUnion(range) }
            default: break
            }
        }
        return found.filter { $0 > afterUID }.sorted()
    }
}
