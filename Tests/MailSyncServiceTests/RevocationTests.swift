import Foundation
import MailSyncClient
import MailSyncRPC
@testable import MailSyncService
import Testing

/// Taking access away takes it away now: open streams end, the auth cache does not outlive a key.
@Suite("Revocation ends access at once", .timeLimit(.minutes(2)))
struct RevocationTests {
    /// How long a stream may go on after access was taken away: "within a second" (expiry is
    /// checked every second), with room for a loaded 2-core machine running every other suite
    /// (3 s was seen to be too little), and still far below the 30 s an auth cache used to keep a
    /// key alive, so that regression fails.
    static let bound: Duration = .seconds(10)

    /// Waits for the stream to end with an error; returns it and how long it took.
    static func end(of stream: ResponseStream<SyncEvent>) async -> (RPCError?, Duration) {
        let started = ContinuousClock.now
        do {
            for try await _ in stream {}
            return (nil, ContinuousClock.now - started)
        } catch {
            return (error as? RPCError, ContinuousClock.now - started)
        }
    }

    /// A salesperson's key and an open watch on their events.
    static func watcher(_ harness: ServiceHarness, _ company: ServiceHarness.Company, expiresAt: Timestamp? = nil) async throws -> (keyID: String, stream: ResponseStream<SyncEvent>) {
        _ = try await MailboxFixtures.makeUser(harness, company, id: "sam", role: .salesperson)
        var request = CreateApiKeyRequest()
        request.companyId = company.id
        request.userId = "sam"
        request.label = "watcher"
        request.expiresAt = expiresAt
        let created = try await harness.operatorClient.createApiKey(request)
        let client = harness.client(key: created.secret)
        let stream = try await WatchSyncEventsTests.watch(harness, client, WatchSyncEventsRequest())
        return (created.key.id, stream)
    }

    @Test("a revoked key's open WatchSyncEvents ends with unauthenticated")
    func revoked() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let (keyID, stream) = try await Self.watcher(harness, company)
        var revoke = RevokeApiKeyRequest()
        revoke.keyId = keyID
        async let ended = Self.end(of: stream)
        _ = try await harness.operatorClient.revokeApiKey(revoke)
        let (error, took) = await ended
        #expect(error?.code == .unauthenticated, "\(String(describing: error))")
        #expect(error?.message.contains("revoked") == true)
        #expect(took < Self.bound)
        await harness.stop()
    }

    @Test("suspending the company ends its streams with permission denied and the reason")
    func suspended() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let (_, stream) = try await Self.watcher(harness, company)
        var suspend = SuspendCompanyRequest()
        suspend.companyId = company.id
        suspend.reason = "unpaid invoice"
        async let ended = Self.end(of: stream)
        _ = try await harness.operatorClient.suspendCompany(suspend)
        let (error, took) = await ended
        #expect(error?.code == .permissionDenied, "\(String(describing: error))")
        #expect(error?.message.contains("unpaid invoice") == true)
        #expect(took < Self.bound)
        await harness.stop()
    }

    @Test("deactivating the user ends their streams")
    func deactivated() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let (_, stream) = try await Self.watcher(harness, company)
        var deactivate = DeactivateUserRequest()
        deactivate.userId = "sam"
        deactivate.previousCommunication = .keep
        async let ended = Self.end(of: stream)
        _ = try await company.admin.deactivateUser(deactivate)
        let (error, took) = await ended
        #expect(error?.code == .unauthenticated, "\(String(describing: error))")
        #expect(took < Self.bound)
        await harness.stop()
    }

    @Test("a key's stream ends when the key expires (by the server's clock)")
    func expiredStream() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let expiry = Timestamp(microsecondsSinceEpoch: harness.clock.now().microsecondsSinceEpoch + 60_000_000)
        let (_, stream) = try await Self.watcher(harness, company, expiresAt: expiry)
        async let ended = Self.end(of: stream)
        harness.clock.advance(seconds: 61)
        let (error, took) = await ended
        #expect(error?.code == .unauthenticated, "\(String(describing: error))")
        #expect(error?.message.contains("expired") == true)
        #expect(took < Self.bound)
        await harness.stop()
    }

    @Test("the auth cache never outlives a key's expiry")
    func cacheHonoursExpiry() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        _ = try await MailboxFixtures.makeUser(harness, company, id: "sam", role: .salesperson)
        var request = CreateApiKeyRequest()
        request.companyId = company.id
        request.userId = "sam"
        request.label = "short"
        request.expiresAt = Timestamp(microsecondsSinceEpoch: harness.clock.now().microsecondsSinceEpoch + 10_000_000)
        let client = harness.client(key: try await harness.operatorClient.createApiKey(request).secret)
        _ = try await client.listMailboxes(ListMailboxesRequest())  // cached now, for up to 30 s
        harness.clock.advance(seconds: 11)
        await #expect { _ = try await client.listMailboxes(ListMailboxesRequest()) } throws: { error in
            (error as? RPCError)?.code == .unauthenticated
        }
        await harness.stop()
    }
}
