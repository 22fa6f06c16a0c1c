import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// Who may touch what, beyond the role check the router already made.
extension ServerContext {
    /// The authenticated caller. Every method but `anyone` ones has one (the router saw to it).
    func caller() throws -> Caller {
        guard let caller = caller as? Caller else {
            throw RPCError(.unauthenticated, "\(method) needs credentials")
        }
        return caller
    }

    /// The caller's company, for methods that act within one. Never from a request field.
    func tenant() throws -> (Caller, TenantID) {
        let caller = try caller()
        guard let tenant = caller.tenantID else {
            throw RPCError(.failedPrecondition, "\(method) acts within a company; use a key of one of the company's users")
        }
        return (caller, tenant)
    }

    /// The company an operator names in `company_id`, or the caller's own for a tenant key (where a
    /// different `company_id` is `not found`: another company's existence is not revealed).
    func company(named companyID: String) throws -> (Caller, TenantID) {
        let caller = try caller()
        if let own = caller.tenantID {
            guard companyID.isEmpty || companyID == own.description else {
                throw RPCError(.notFound, "no company '\(companyID)'")
            }
            return (caller, own)
        }
        guard !companyID.isEmpty else { throw RPCError(.invalidArgument, "company_id is required") }
        guard let tenant = TenantID(validating: companyID) else {
            throw RPCError(.notFound, "no company '\(companyID)'")
        }
        return (caller, tenant)
    }

    /// Whether the caller may act on `ownerID`'s resources: their own always; others' only with a
    /// role in the method's `othersRoles`.
    func requireAccess(toUser ownerID: String) throws {
        let caller = try caller()
        guard caller.userID != ownerID else { return }
        guard method.mayActOnOthers(role: caller.role) else {
            throw RPCError(.permissionDenied, "the role '\(caller.role)' may act only on the caller's own mailbox and mail")
        }
    }

    /// The user a request names in `user_id`, or the caller's own when empty.
    func subjectUser(_ requested: String) throws -> String {
        let caller = try caller()
        let user = requested.isEmpty ? caller.userID : requested
        try requireAccess(toUser: user)
        return user
    }
}
