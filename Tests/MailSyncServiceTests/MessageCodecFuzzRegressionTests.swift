import Foundation
import MailSyncClient
import MailSyncCoding
import Testing

/// The `FuzzMessageCodec` target's inputs, replayed: every seed (`Fuzz/Corpus/FuzzMessageCodec/`)
/// and kept crasher decoded as every generated message type, not only the one its first byte picks
/// (docs/fuzzing.md). The checks and the list of types repeat `Fuzz/Sources/FuzzMessageCodec`:
/// change both together.
@Suite("Fuzz regressions: message codec", .timeLimit(.minutes(5)))
struct MessageCodecFuzzRegressionTests {
    /// Every message of Schema/mailsync.msrpc, in schema order, as in the fuzz target.
    static let messageTypes: [any Message.Type] = [
        PlanCaps.self, PlanInfo.self, ListPlansRequest.self, ListPlansResponse.self,
        UpdatePlanCapsRequest.self, CompanyLimits.self, Company.self, CreateCompanyRequest.self,
        GetCompanyRequest.self, ListCompaniesRequest.self, ListCompaniesResponse.self,
        SuspendCompanyRequest.self, ResumeCompanyRequest.self, ChangePlanRequest.self,
        SetCompanyLimitsRequest.self, CompanySettings.self, GetCompanySettingsRequest.self,
        EmailDomains.self, UpdateCompanySettingsRequest.self, ApiKey.self,
        CreateApiKeyRequest.self, CreateApiKeyResponse.self, ListApiKeysRequest.self,
        ListApiKeysResponse.self, RevokeApiKeyRequest.self, User.self, CreateUserRequest.self,
        ChangeUserRoleRequest.self, DeactivateUserRequest.self, ListUsersRequest.self,
        ListUsersResponse.self, Lead.self, LeadRejection.self, UpsertLeadsResponse.self,
        Opportunity.self, UpsertOpportunitiesRequest.self, UpsertOpportunitiesResponse.self,
        DeleteLeadRequest.self, DeleteLeadResponse.self, ServerEndpoint.self, Mailbox.self,
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

    @Test("the fuzz target's list names every generated message, in order")
    func everyMessageListed() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let generated = try String(contentsOf: root.appendingPathComponent("Clients/Swift/Sources/MailSyncClient/mailsync.generated.swift"), encoding: .utf8)
        let declared = generated.split(separator: "\n").compactMap { untrimmed -> String? in
            let line = untrimmed.drop { $0 == " " }  // declared inside `extension MailSync`
            guard line.hasPrefix("public struct "), line.contains(": Message") else { return nil }
            return String(line.dropFirst("public struct ".count).prefix { $0 != ":" })
        }
        #expect(declared.count >= 80)
        #expect(Self.messageTypes.map { String(describing: $0) } == declared)
        let target = try String(contentsOf: root.appendingPathComponent("Fuzz/Sources/FuzzMessageCodec/MessageTypes.swift"), encoding: .utf8)
        let listed = target.split(whereSeparator: { " ,\n[]".contains($0) }).filter { $0.hasSuffix(".self") }.map { String($0.dropLast(5)) }
        #expect(listed == declared, "Fuzz/Sources/FuzzMessageCodec/MessageTypes.swift")
    }

    @Test("FuzzMessageCodec: every input, decoded as every message type, survives a round trip and validate()")
    func messages() throws {
        let inputs = try fuzzInputs("FuzzMessageCodec")
        #expect(inputs.count >= 10)
        var decoded = 0
        for (name, input) in inputs {
            let bytes = Array(input.dropFirst())
            for type in Self.messageTypes where roundTrip(type, bytes, name) { decoded += 1 }
        }
        #expect(decoded >= 20)
    }

    /// Decodes `bytes` as a `T`; when that succeeds, checks the round trip and runs `validate()`.
    /// Whether it decoded.
    private func roundTrip<T: Message>(_: T.Type, _ bytes: [UInt8], _ name: String) -> Bool {
        guard let message = try? T(serializedBytes: bytes) else { return false }
        _ = try? message.validate()
        let encoded = message.serializedBytes()
        let again = try? T(serializedBytes: encoded)
        #expect(again == message, "\(name) as \(T.self): round trip")
        #expect(again?.serializedBytes() == encoded, "\(name) as \(T.self): stable encoding")
        return true
    }
}

/// The files of `Fuzz/Corpus/<target>/` and `Fuzz/Crashers/<target>/` (which may not exist), by name.
private func fuzzInputs(_ target: String, file: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
    let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var inputs: [(name: String, bytes: [UInt8])] = []
    for folder in ["Corpus", "Crashers"] {
        let directory = root.appendingPathComponent("Fuzz/\(folder)/\(target)")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
        for name in names.sorted() where !name.hasPrefix(".") {
            inputs.append(("\(folder)/\(target)/\(name)", Array(try Data(contentsOf: directory.appendingPathComponent(name)))))
        }
    }
    return inputs
}
