/// Who counts as "us" for one mailbox's sync: the mailbox owner's addresses, every company user's
/// address, the company's email domains, and whether in-house mail is skipped.
///
/// Addresses and domains are normalized (``EmailAddress/normalize(_:)``, lower-cased domains) by
/// the initializer, so callers may pass them as stored.
public struct CompanyDirectory: Sendable {
    public let ownerAddresses: Set<String>
    public let userAddresses: Set<String>
    public let domains: Set<String>
    /// The company setting "Prevent email between company employees".
    public let preventInternalEmailSync: Bool

    public init(ownerAddresses: [String], userAddresses: [String], domains: [String], preventInternalEmailSync: Bool) {
        self.ownerAddresses = Set(ownerAddresses.compactMap(EmailAddress.normalize))
        self.userAddresses = Set(userAddresses.compactMap(EmailAddress.normalize)).union(self.ownerAddresses)
        self.domains = Set(domains.map { $0.lowercased() })
        self.preventInternalEmailSync = preventInternalEmailSync
    }

    /// A company user's address, or one on the company's domains.
    public func isInternal(_ address: String) -> Bool {
        userAddresses.contains(address) || domains.contains(String(EmailAddress.domain(of: address)))
    }
}
