import MailSyncBackup
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// Backups of company databases (operators; the router enforces the role): `BackupTenant`,
/// `RestoreTenant`, `VerifyBackup`, `ListBackups`. The work is ``TenantBackups``'s; this maps
/// requests and errors.
///
/// Backups live under `<data directory>/backups`. A backup id is `<company-id>/<UTC stamp>`.
/// `BackupTenant` returns the latest backup instead of writing a new one when the company has not
/// changed since, unless the request says `force` (then `Backup.reused` is false). A backup, verify
/// or restore that finds a damaged, truncated or foreign backup fails with `failed precondition`
/// (restore, backup) or `ok = false` (verify), with a message naming the backup, what is wrong and
/// what to do; the live database is left as it was.
struct BackupHandlers: MailSync.BackupsHandler {
    let env: ServiceEnvironment
    let backups: TenantBackups

    init(env: ServiceEnvironment) {
        self.env = env
        let clock = env.clock
        backups = TenantBackups(pool: env.tenants, now: { clock.now().microsecondsSinceEpoch })
    }

    /// A snapshot of the company's database (or its latest backup, if nothing changed since).
    func backupTenant(_ request: BackupTenantRequest, context: ServerContext) async throws -> Backup {
        let tenant = try await company(request.companyId, field: "company_id")
        let force = request.force
        let outcome = try await mapped("the backup of company \(tenant)") { try await backups.backup(tenant, force: force) }
        if !outcome.wasSkipped {
            env.logger.info("backed up company", metadata: ["company": "\(tenant)", "backup": "\(outcome.manifest.id)"])
        }
        var backup = Self.backup(outcome.manifest)
        backup.reused = outcome.wasSkipped
        return backup
    }

    /// Replaces the company's database with a verified backup, after backing up the current state.
    func restoreTenant(_ request: RestoreTenantRequest, context: ServerContext) async throws -> RestoreTenantResponse {
        guard !request.backupId.isEmpty else { throw RPCError(.invalidArgument, "backup_id is required (ListBackups lists them)") }
        let tenant = try await company(request.companyId, field: "company_id")
        let id = try await mapped("the restore") { try TenantBackups.backupID(request.backupId) }
        guard id.tenant == tenant else {
            throw RPCError(.failedPrecondition, "backup \(id) belongs to company \(id.tenant), not to company \(tenant); nothing was restored (restore one of \(tenant)'s own backups)")
        }
        // Shipping off the machine pauses for this company while its file is replaced.
        await env.shipping?.hold(tenant)
        let outcome: TenantBackups.RestoreOutcome
        do {
            outcome = try await mapped("the restore of company \(tenant)", restoring: true) { try await backups.restore(id, into: tenant) }
        } catch {
            await env.shipping?.release(tenant)
            throw error
        }
        if env.shipping != nil {
            // Opened once now, so the restored file is in WAL mode (a backup is stored in rollback
            // mode) and its new generation ships at the next round, not at its next call.
            _ = try? await env.withTenant(tenant, "the restored company") { _ in true }
        }
        await env.shipping?.release(tenant)
        env.syncRequests.scheduleChanged(tenant)
        env.syncEvents.signal(tenant)
        env.logger.notice("restored company from a backup", metadata: [
            "company": "\(tenant)", "backup": "\(id)", "previous_state": "\(outcome.previousState?.id ?? "none")",
            "damaged_file_kept_at": "\(outcome.damagedFileKeptAt ?? "")",
        ])
        var response = RestoreTenantResponse()
        response.restored = Self.backup(outcome.restored)
        if let previous = outcome.previousState { response.previousState = Self.backup(previous) }
        return response
    }

    /// Checks a backup's checksums and database without restoring it. A backup that exists but
    /// fails a check is `ok = false` with the reason; an id naming no backup is `not found`.
    func verifyBackup(_ request: VerifyBackupRequest, context: ServerContext) async throws -> VerifyBackupResponse {
        let id = try await mapped("the check") { try TenantBackups.backupID(request.backupId) }
        var response = VerifyBackupResponse()
        do {
            _ = try await backups.verify(id)
            response.ok = true
        } catch let error as BackupError where [.corrupted, .truncated, .wrongTenant, .damaged].contains(error.kind) {
            response.ok = false
            response.detail = error.message
        } catch {
            throw Self.rpcError(error, what: "the check of backup \(id)", restoring: false)
        }
        return response
    }

    /// Backups of one company or all, newest first, paged.
    func listBackups(_ request: ListBackupsRequest, context: ServerContext) async throws -> ListBackupsResponse {
        var tenant: TenantID?
        if !request.companyId.isEmpty {
            guard let id = TenantID(validating: request.companyId) else {
                throw RPCError(.invalidArgument, "company_id '\(request.companyId)' is not a company id")
            }
            tenant = id
        }
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "backups")
        let all = try await mapped("the list of backups") { try await backups.list(tenant) }
        var response = ListBackupsResponse()
        let slice = all.dropFirst(page.offset).prefix(page.size + 1)
        response.backups = slice.prefix(page.size).map(Self.backup)
        response.nextPageToken = page.nextToken(found: slice.count)
        return response
    }

    // MARK: Helpers

    /// The company's tenant id, checked against the control database.
    private func company(_ id: String, field: String) async throws -> TenantID {
        guard !id.isEmpty else { throw RPCError(.invalidArgument, "\(field) is required") }
        guard let tenant = TenantID(validating: id) else { throw RPCError(.notFound, "no company '\(id)'") }
        _ = try await env.controlRead("the company") { try CompanyRecords.require($0, id: id) }
        // In a fleet, a company's backups are made and restored on its owner (elsewhere: `moved`).
        if let companies = env.fleetCompanies {
            _ = try await companies.enter(tenant)
            companies.leave(tenant)
        }
        return tenant
    }

    private func mapped<T>(_ what: String, restoring: Bool = false, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw Self.rpcError(error, what: what, restoring: restoring)
        }
    }

    static func rpcError(_ error: any Error, what: String, restoring: Bool) -> any Error {
        if let error = error as? StorageError {
            if error.kind == .offline { return RPCError(.aborted, error.message) }
            return StorageFailure.rpcError(error, what: what)
        }
        guard let error = error as? BackupError else { return error }
        let untouched = restoring ? " The company's live data was not changed." : ""
        switch error.kind {
        case .invalidID: return RPCError(.invalidArgument, error.message)
        case .notFound: return RPCError(.notFound, error.message)
        case .corrupted, .truncated, .wrongTenant, .damaged, .newerSchema:
            return RPCError(.failedPrecondition, error.message + untouched)
        case .busy: return RPCError(.aborted, error.message)
        case .fileSystem: return RPCError(.internal, "\(what) failed: \(error.message)" + untouched)
        }
    }

    static func backup(_ manifest: BackupManifest) -> Backup {
        var backup = Backup()
        backup.id = manifest.id
        backup.companyId = manifest.tenantID
        backup.createdAt = Timestamp(microsecondsSinceEpoch: manifest.createdAtMicroseconds)
        backup.sizeBytes = manifest.compressedSize
        backup.sha256 = manifest.sha256
        return backup
    }
}
