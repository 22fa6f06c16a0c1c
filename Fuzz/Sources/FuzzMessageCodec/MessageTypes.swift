import MailSyncCoding

/// Every message of Schema/mailsync.msrpc, in schema order (88 on 2026-12-06): the generated
/// `public struct X: Message` of Clients/Swift/Sources/MailSyncClient/mailsync.generated.swift
/// (declared inside `MailSync`). The replay test
/// (Tests/MailSyncServiceTests/FuzzRegressionTests.swift) holds the same list and fails when the
/// generated file declares a message that is not in it: change both together.
let messageTypes: [any Message.Type] = MailSync.fuzzedMessageTypes

extension MailSync {
    static let fuzzedMessageTypes: [any Message.Type] = [
        PlanCaps.self, PlanInfo.self, ListPlansRequest.self, ListPlansResponse.self,
        UpdatePlanCapsRequest.self, CompanyLimits.self, Company.self, CreateCompanyRequest.self,
        GetCompanyRequest.self, ListCompaniesRequest.self, ListCompaniesResponse.self,
        SuspendCompanyRequest.self, ResumeCompanyRequest.self, ChangePlanRequest.self,
        SetCompanyLimitsRequest.self, CompanySettings.self, GetCompanySettingsRequest.self,
        EmailDomains.self, UpdateCompanySettingsRequest.self, ApiKey.self, CreateApiKeyRequest.self,
        CreateApiKeyResponse.self, ListApiKeysRequest.self, ListApiKeysResponse.self,
        RevokeApiKeyRequest.self, User.self, CreateUserRequest.self, ChangeUserRoleRequest.self,
        DeactivateUserRequest.self, ListUsersRequest.self, ListUsersResponse.self, Lead.self,
        LeadRejection.self, UpsertLeadsResponse.self, Opportunity.self,
        UpsertOpportunitiesRequest.self, UpsertOpportunitiesResponse.self, DeleteLeadRequest.self,
        DeleteLeadResponse.self, ServerEndpoint.self, Mailbox.self,
        CreateMailboxConnectionRequest.self, UpdateMailboxCredentialsRequest.self,
        GetMailboxStatusRequest.self, MailboxStatusResponse.self, TestMailboxConnectionRequest.self,
        ConnectionTestStep.self, TestMailboxConnectionResponse.self, ListMailboxesRequest.self,
        ListMailboxesResponse.self, DisableMailboxRequest.self, DisableMailboxResponse.self,
        SyncNowRequest.self, SyncNowResponse.self, ResyncRequest.self, ResyncResponse.self,
        ListUnconfiguredUsersRequest.self, ListUnconfiguredUsersResponse.self,
        StartOAuthConnectionRequest.self, StartOAuthConnectionResponse.self,
        CompleteOAuthConnectionRequest.self, CompleteOAuthConnectionResponse.self, SyncEvent.self,
        ListSyncEventsRequest.self, ListSyncEventsResponse.self, WatchSyncEventsRequest.self,
        ErrorLogEntry.self, ListErrorLogRequest.self, ListErrorLogResponse.self, Participant.self,
        TimelineEntry.self, ListLeadTimelineRequest.self, ListLeadTimelineResponse.self,
        SendSmartMailRequest.self, SendSmartMailResponse.self, GetBillingReportRequest.self,
        CompanyBilling.self, BillingReport.self, Backup.self, BackupTenantRequest.self,
        RestoreTenantRequest.self, RestoreTenantResponse.self, VerifyBackupRequest.self,
        VerifyBackupResponse.self, ListBackupsRequest.self, ListBackupsResponse.self,
        GetServerInfoRequest.self, ServerInfo.self,
    ]
}
