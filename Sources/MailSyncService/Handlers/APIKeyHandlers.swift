import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// API keys: created by operators (for operators, or for one user of a company), shown once,
/// stored as a hash, listed without secrets, revocable.
struct APIKeyHandlers: MailSync.APIKeysHandler {
    let env: ServiceEnvironment

    /// An operator key (empty `company_id`, role `operator`), or a key acting for one active user
    /// of a company, with that user's role (an empty `role` takes it; another one is refused).
    func createApiKey(_ request: CreateApiKeyRequest, context: ServerContext) async throws -> CreateApiKeyResponse {
        try Validate.length(request.label, "label", max: 200)
        let now = env.clock.now()
        if let expires = request.expiresAt, expires <= now {
            throw RPCError(.invalidArgument, "expires_at must be in the future")
        }
        var role = request.role
        var companyID: String?
        if request.companyId.isEmpty {
            guard role.isEmpty || role == Caller.operatorRole else {
                throw RPCError(.invalidArgument, "a key without company_id is an operator key; role must be 'operator' or empty, got '\(role)'")
            }
            guard request.userId.isEmpty else {
                throw RPCError(.invalidArgument, "user_id names a company's user; give company_id too")
            }
            role = Caller.operatorRole
        } else {
            guard let tenant = TenantID(validating: request.companyId) else {
                throw RPCError(.notFound, "no company '\(request.companyId)'")
            }
            try Validate.identifier(request.userId, "user_id")
            _ = try await env.controlRead("the company") { try CompanyRecords.require($0, id: tenant.description) }
            let userID = request.userId
            let user = try await env.read(tenant, "the user") { db in try UserRecords.find(db, id: userID) }
            guard let user else { throw RPCError(.notFound, "no user '\(userID)' in company \(tenant)") }
            guard user.active else {
                throw RPCError(.failedPrecondition, "user '\(userID)' is deactivated; keys act only for active users")
            }
            let userRole = user.role.roleName
            guard role.isEmpty || role == userRole else {
                throw RPCError(.failedPrecondition, "user '\(userID)' is a \(userRole); a key acts with its user's role, not '\(role)'")
            }
            role = userRole
            companyID = tenant.description
        }
        let (finalRole, finalCompany, userID, label, expiresAt) = (role, companyID, request.userId, request.label, request.expiresAt)
        let idempotencyKey = try IdempotentRequests.key(request.idempotencyKey)
        var vouched = request
        vouched.idempotencyKey = ""
        let scope = IdempotentRequests.scope(method: "CreateApiKey", keyID: try context.caller().keyID)
        // The answer (with the secret) is kept sealed for a retry: the same secret comes back.
        return try await env.idempotentControlWrite("the API key", scope: scope, key: idempotencyKey, request: vouched) { db in
            let (key, secret) = try APIKeyStore.insert(
                db, companyID: finalCompany, role: finalRole, userID: userID, label: label, expiresAt: expiresAt, now: now)
            var response = CreateApiKeyResponse()
            response.key = ApiKey(key)
            response.secret = secret
            return response
        }
    }

    func listApiKeys(_ request: ListApiKeysRequest, context: ServerContext) async throws -> ListApiKeysResponse {
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "keys")
        let (companyID, includeRevoked) = (request.companyId, request.includeRevoked)
        let rows = try await env.controlRead("the API keys") { db in
            try APIKeyStore.list(
                db, companyID: companyID.isEmpty ? nil : companyID, includeRevoked: includeRevoked,
                limit: page.limitPlusOne, offset: Int64(page.offset))
        }
        var response = ListApiKeysResponse()
        response.keys = rows.prefix(page.size).map(ApiKey.init)
        response.nextPageToken = page.nextToken(found: rows.count)
        return response
    }

    func revokeApiKey(_ request: RevokeApiKeyRequest, context: ServerContext) async throws -> ApiKey {
        let id = request.keyId
        let key = try await env.controlWrite("the revocation") { db in
            _ = try APIKeyStore.require(db, id: id)
            try APIKeyStore.revoke(db, id: id)
            return try APIKeyStore.require(db, id: id)
        }
        env.authenticator.invalidate(keyIDs: [id])
        return ApiKey(key)
    }
}
