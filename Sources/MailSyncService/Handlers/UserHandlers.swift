import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// Company settings and the company's users.
///
/// A user's role is also the role of the API keys that act for them, so changing it rewrites those
/// keys in the control database, and deactivating a user revokes them; both drop the
/// authenticator's cache for the company so the change applies to the next call. The tenant and
/// the control database are two files: the tenant change commits first, then the keys; both RPCs
/// are idempotent, so a retry after a failure between the two finishes the job.
///
/// Only administrators give or take the administrator role (a company manager cannot promote
/// anyone, themselves included, above their own role), and the last active administrator cannot
/// be demoted or deactivated.
struct UserHandlers: MailSync.UsersHandler {
    let env: ServiceEnvironment

    // MARK: Company settings

    func getCompanySettings(_ request: GetCompanySettingsRequest, context: ServerContext) async throws -> CompanySettings {
        let (_, tenant) = try context.tenant()
        let settings = try await env.read(tenant, "the company settings") { try SettingsRecords.read($0) }
        return try await withPlanAndLimits(CompanySettings(settings), tenant)
    }

    /// Changes only the fields that are set; `email_domains` replaces the whole list.
    ///
    /// A change that makes less mail in-house (turning `prevent_internal_email_sync` off, or
    /// removing a domain while it stays on) queues the in-house lead addresses for retro-match
    /// (``RetroMatchStore/enqueueInHouse(_:now:)``): mail skipped before reaches those leads'
    /// timelines at each mailbox's next run. Turning it on never deletes what was recorded.
    func updateCompanySettings(_ request: UpdateCompanySettingsRequest, context: ServerContext) async throws -> CompanySettings {
        let (_, tenant) = try context.tenant()
        if let timeZone = request.timeZone { try Validate.timeZone(timeZone, "time_zone") }
        var domains: [String]?
        if let list = request.emailDomains?.domains {
            guard list.count <= 100 else {
                throw RPCError(.invalidArgument, "email_domains.domains must have at most 100 domains, got \(list.count)")
            }
            for (i, domain) in list.enumerated() { try Validate.hostName(domain, "email_domains.domains[\(i)]") }
            domains = Array(Set(list.map { $0.lowercased() })).sorted()
        }
        let (prevent, timeZone, newDomains) = (request.preventInternalEmailSync, request.timeZone, domains)
        let now = env.clock.now().microsecondsSinceEpoch
        let settings = try await env.write(tenant, "the company settings") { db in
            let before = try SettingsRecords.read(db)
            if before.preventInternalEmailSync, prevent == false || newDomains.map({ !Set(before.emailDomains).isSubset(of: $0) }) == true {
                // Read under the old settings, before the domains change.
                try RetroMatchStore.enqueueInHouse(db, now: now)
            }
            try SettingsRecords.update(db, preventInternalEmailSync: prevent, timeZone: timeZone)
            if let newDomains { try SettingsRecords.replaceDomains(db, with: newDomains) }
            return try SettingsRecords.read(db)
        }
        return try await withPlanAndLimits(CompanySettings(settings), tenant)
    }

    private func withPlanAndLimits(_ settings: CompanySettings, _ tenant: TenantID) async throws -> CompanySettings {
        let company = try await env.controlRead("the company settings") { try CompanyRecords.require($0, id: tenant.description) }
        var settings = settings
        settings.plan = Plan(company.plan)
        settings.limits = CompanyLimits(company.limits)
        return settings
    }

    // MARK: Users

    /// Creates an active user; the server makes the id (a UUID) when the request has none.
    func createUser(_ request: CreateUserRequest, context: ServerContext) async throws -> User {
        let (caller, tenant) = try context.tenant()
        let id = request.id.isEmpty ? RowID.make() : request.id
        if !request.id.isEmpty { try Validate.identifier(request.id, "id") }
        let name = request.name.trimmingCharacters(in: .whitespaces)
        try Validate.required(name, "name")
        try Validate.length(name, "name", max: 200)
        let email = try Validate.email(request.email, "email")
        let role = try Self.requireRole(request.role, "role")
        try Self.requireMayGrant(request.role, caller: caller)
        let now = env.clock.now().microsecondsSinceEpoch
        let key = try IdempotentRequests.key(request.idempotencyKey)
        var vouched = request
        vouched.idempotencyKey = ""
        return try await env.idempotentWrite(
            tenant, "the user", scope: IdempotentRequests.scope(method: "CreateUser", keyID: caller.keyID), key: key, request: vouched
        ) { db in
            guard try !UserRecords.exists(db, id: id) else {
                throw RPCError(.alreadyExists, "a user with id '\(id)' already exists")
            }
            try UserRecords.insert(db, id: id, name: name, email: email, role: role, now: now)
            return User(try UserRecords.require(db, id: id))
        }
    }

    /// Changes a user's role and the role of every API key acting for them.
    func changeUserRole(_ request: ChangeUserRoleRequest, context: ServerContext) async throws -> User {
        let (caller, tenant) = try context.tenant()
        try Validate.identifier(request.userId, "user_id")
        let role = try Self.requireRole(request.role, "role")
        try Self.requireMayGrant(request.role, caller: caller)
        let userID = request.userId
        let user = try await env.write(tenant, "the role change") { db in
            let user = try UserRecords.require(db, id: userID)
            guard user.role != role else { return user }
            try Self.requireMayChange(user, caller: caller)
            try UserRecords.requireAnotherAdministrator(db, besides: user, doing: "changing their role")
            try UserRecords.setRole(db, id: userID, role)
            return try UserRecords.require(db, id: userID)
        }
        let roleName = role.roleName
        _ = try await env.controlWrite("the role change") { db in
            try APIKeyStore.setRole(db, companyID: tenant.description, userID: userID, role: roleName)
        }
        env.authenticator.invalidate(company: tenant)
        env.syncRequests.scheduleChanged(tenant)
        return User(user)
    }

    /// Deactivates a user: their API keys are revoked and their active mailbox is disabled, its
    /// secret erased and, for `REMOVE`, its timeline entries (with their participants and
    /// opportunity links) deleted, all in one transaction.
    func deactivateUser(_ request: DeactivateUserRequest, context: ServerContext) async throws -> User {
        let (caller, tenant) = try context.tenant()
        try Validate.identifier(request.userId, "user_id")
        let previous = request.previousCommunication
        guard previous == .keep || previous == .remove else {
            throw RPCError(.invalidArgument, "previous_communication is required: KEEP or REMOVE what the user's mailbox synced")
        }
        let userID = request.userId
        let now = env.clock.now().microsecondsSinceEpoch
        let limit = try await env.mailboxSyncLimit(tenant)
        let user = try await env.write(tenant, "the deactivation") { db in
            let user = try UserRecords.require(db, id: userID)
            try Self.requireMayChange(user, caller: caller)
            try UserRecords.requireAnotherAdministrator(db, besides: user, doing: "deactivating them")
            try UserRecords.deactivate(db, id: userID)
            // The user's mailbox is disabled as DisableMailbox would: event, and its place under the
            // company's sync limit goes to the oldest waiting mailbox.
            if let mailbox = try MailboxRecords.active(db, userID: userID) {
                try MailboxRecords.disable(db, id: mailbox.id, now: now)
                if previous == .remove { _ = try MailboxRecords.removeTimelineEntries(db, mailboxID: mailbox.id) }
                _ = try SyncEventRecords.insert(
                    db, kind: .disabled, mailboxID: mailbox.id, userID: userID, status: .disabled,
                    detail: "the user was deactivated; previously synced communication was \(previous == .remove ? "removed" : "kept")",
                    now: now)
                try MailboxRecords.promotePending(db, limit: limit, now: now)
            }
            return try UserRecords.require(db, id: userID)
        }
        _ = try await env.controlWrite("the deactivation") { db in
            try APIKeyStore.revokeAll(db, companyID: tenant.description, userID: userID)
        }
        env.authenticator.invalidate(company: tenant)
        env.syncRequests.scheduleChanged(tenant)
        return User(user)
    }

    /// Users by creation time, each with their active mailbox's status (`NOT_CONFIGURED` when none).
    func listUsers(_ request: ListUsersRequest, context: ServerContext) async throws -> ListUsersResponse {
        let (_, tenant) = try context.tenant()
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "users")
        let role = try request.role.map { try Self.requireRole($0, "role") }
        let includeInactive = request.includeInactive
        let rows = try await env.read(tenant, "the users") { db in
            try UserRecords.list(db, role: role, includeInactive: includeInactive, limit: page.limitPlusOne, offset: Int64(page.offset))
        }
        var response = ListUsersResponse()
        response.users = rows.prefix(page.size).map(User.init)
        response.nextPageToken = page.nextToken(found: rows.count)
        return response
    }

    // MARK: Rules

    /// A role a user can have: one of the six, not `UNSPECIFIED` or a number this build does not know.
    @discardableResult
    static func requireRole(_ role: UserRole, _ field: String) throws -> UserRecord.Role {
        guard let known = UserRecord.Role(role) else {
            throw RPCError(.invalidArgument, "\(field) must be one of the user roles (ADMINISTRATOR … JUNIOR_SALESPERSON), got \(role)")
        }
        return known
    }

    /// Only administrators make administrators.
    static func requireMayGrant(_ role: UserRole, caller: Caller) throws {
        guard role != .administrator || caller.role == "administrator" else {
            throw RPCError(.permissionDenied, "only an administrator may give the administrator role")
        }
    }

    /// Only administrators change or deactivate an administrator.
    static func requireMayChange(_ user: UserRecord, caller: Caller) throws {
        guard user.role != .administrator || caller.role == "administrator" else {
            throw RPCError(.permissionDenied, "only an administrator may change or deactivate an administrator")
        }
    }
}
