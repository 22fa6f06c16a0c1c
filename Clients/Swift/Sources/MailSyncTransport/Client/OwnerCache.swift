/// Which node owns which company, as `moved` statuses said, and which company an API key acts on:
/// what lets a routing client send a call straight to the owner.
///
/// A tenant API key belongs to exactly one company, so the cache maps the `authorization` value to
/// that company, and the company to its owner. The client cannot see which company a request
/// names (requests are opaque bytes to the transport), so a key is mapped only while every
/// redirect its calls met named the same company: an operator key, whose calls name many
/// companies, is marked as spanning companies the first time two differ, and its calls then go
/// to the seed (each company-scoped call pays one redirect). A redirect without a company is
/// followed but not cached.
///
/// Both maps are bounded (`capacity` entries each, default 1,024); when full, an arbitrary entry
/// makes room. A value type, so that its rules are tested without sockets.
struct OwnerCache: Sendable {
    enum KeyScope: Sendable, Hashable {
        /// Every redirect so far named this company.
        case company(String)
        /// Redirects named different companies: an operator's key.
        case manyCompanies
    }

    let capacity: Int
    private(set) var keys: [String: KeyScope] = [:]
    private(set) var owners: [String: NodeAddress] = [:]

    init(capacity: Int = 1024) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Where a call made with `key` (the first `authorization` value; nil: none) should go, and
    /// the company that decided it; nil: to the seed.
    func owner(forKey key: String?) -> (owner: NodeAddress, company: String)? {
        guard let key, case .company(let company) = keys[key], let owner = owners[company] else { return nil }
        return (owner, company)
    }

    /// Records a redirect met by a call made with `key`.
    mutating func learned(_ redirect: Redirect, key: String?) {
        guard let company = redirect.company else { return }
        if owners[company] == nil, owners.count >= capacity { owners.remove(at: owners.startIndex) }
        owners[company] = redirect.owner
        guard let key else { return }
        switch keys[key] {
        case nil:
            if keys.count >= capacity { keys.remove(at: keys.startIndex) }
            keys[key] = .company(company)
        case .company(let known) where known != company:
            keys[key] = .manyCompanies
        case .company, .manyCompanies:
            break
        }
    }

    /// Forgets `company`'s owner if it is still `owner` (which could not be reached); the key
    /// mappings stay, so the next redirect fills it again.
    mutating func ownerUnreachable(_ owner: NodeAddress, company: String) {
        if owners[company] == owner { owners[company] = nil }
    }
}
