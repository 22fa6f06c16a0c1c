import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncSecurity
import MailSyncStorage
import MailSyncTenantData
import NIOConcurrencyHelpers
import MailSyncEngine

/// Turns the `authorization` metadata (`msk_…`, optionally after `Bearer `) into a `Caller`.
///
/// Looks the key up by its public id in the control database and compares the secret's SHA-256
/// in constant time. Refused, each with `unauthenticated` and a reason: a malformed value, an
/// unknown, revoked or expired key, a wrong secret. A key of a suspended company is refused with
/// `permission denied` naming the suspension reason. Answers are cached for up to 30 seconds and
/// never past the key's `expires_at`; `invalidate(...)` drops them at once when keys are revoked,
/// users deactivated or companies suspended.
final class APIKeyAuthenticator: Authenticator {
    private let control: ControlDatabase
    private let clock: any WallClock
    private let cache = NIOLockedValueBox([String: CachedCaller]())
    private let revocationCount = NIOLockedValueBox<UInt64>(0)
    private let onRevocation: @Sendable () -> Void
    private let rate: RequestRate?
    private let onRateRefused: @Sendable () -> Void
    private let onUnknownKey: (@Sendable () async -> Void)?
    static let cacheLifetimeMicros: Int64 = 30_000_000

    struct CachedCaller {
        let caller: Caller
        let hash: [UInt8]
        let until: Int64
    }

    /// - Parameter onRevocation: called after every ``invalidate(keyIDs:company:)`` (the server
    ///   wakes its event watchers with it).
    /// - Parameter onUnknownKey: in a fleet, brings the control database up to date with etcd
    ///   when a key is not found (it may have been made on another node a moment ago); the key is
    ///   then looked up once more.
    /// - Parameter rate: each tenant key's request budget (operators are not limited); a call
    ///   over it is `resource exhausted` with the seconds to wait, and `onRateRefused` is called.
    init(
        control: ControlDatabase, clock: any WallClock, rate: RequestRate? = nil,
        onRateRefused: @escaping @Sendable () -> Void = {}, onRevocation: @escaping @Sendable () -> Void = {},
        onUnknownKey: (@Sendable () async -> Void)? = nil
    ) {
        self.onUnknownKey = onUnknownKey
        self.control = control
        self.clock = clock
        self.rate = rate
        self.onRateRefused = onRateRefused
        self.onRevocation = onRevocation
    }

    /// Charges one call to a tenant key's request budget.
    private func admit(_ caller: Caller) throws -> Caller {
        guard !caller.isOperator, let rate, let wait = rate.take(caller.keyID) else { return caller }
        onRateRefused()
        throw QuotaRefusal.rate(retryAfter: wait)
    }

    func authenticate(_ metadata: Metadata, method: MethodDescriptor) async throws -> (any CallerIdentity)? {
        guard var presented = metadata[Metadata.authorizationKey] else { return nil }
        if presented.hasPrefix("Bearer ") { presented.removeFirst("Bearer ".count) }
        guard let key = APIKeySecret.parse(presented) else {
            throw RPCError(.unauthenticated, "the authorization metadata is not an API key (expected msk_…)")
        }
        let now = clock.now().microsecondsSinceEpoch
        if let cached = cache.withLockedValue({ $0[key.keyID] }), cached.until > now, key.matches(cached.hash) {
            return try admit(cached.caller)
        }
        let (caller, hash) = try await lookUp(keyID: key.keyID, now: now) { key.matches($0) }
        // Never cached past the key's expiry: an expired key is refused at that moment.
        let until = min(now + Self.cacheLifetimeMicros, caller.expiresAt ?? Int64.max)
        cache.withLockedValue {
            $0[key.keyID] = CachedCaller(caller: caller, hash: hash, until: until)
        }
        return try admit(caller)
    }

    /// Checks again, from the control database and not the cache, that `caller`'s key still
    /// stands as it did: not revoked or expired, its company not suspended, its role unchanged.
    /// Long-lived calls (`WatchSyncEvents`) call it when ``revocations`` moved or the key's
    /// expiry came, and end with the error it throws.
    func recheck(_ caller: Caller) async throws {
        let now = clock.now().microsecondsSinceEpoch
        let (current, _) = try await lookUp(keyID: caller.keyID, now: now) { _ in true }
        guard current.role == caller.role, current.tenantID == caller.tenantID, current.userID == caller.userID else {
            throw RPCError(.permissionDenied, "the API key \(caller.keyID) changed (its user's role or company); call again")
        }
    }

    /// The key's row, judged: `secretMatches` checks the presented secret against the stored hash.
    private func lookUp(keyID: String, now: Int64, secretMatches: @escaping @Sendable ([UInt8]) -> Bool) async throws -> (Caller, [UInt8]) {
        var key = try await control.read { try APIKeyStore.credentials($0, keyID: keyID) }
        if key == nil, let onUnknownKey {
            await onUnknownKey()
            key = try await control.read { try APIKeyStore.credentials($0, keyID: keyID) }
        }
        guard let key, secretMatches(key.secretHash) else {
            throw RPCError(.unauthenticated, "the API key is not valid; ask an operator for a new one")
        }
        if key.revoked {
            throw RPCError(.unauthenticated, "the API key \(keyID) was revoked")
        }
        let expires = key.expiresAt
        if let expires, expires <= now {
            throw RPCError(.unauthenticated, "the API key \(keyID) has expired")
        }
        var tenant: TenantID?
        if let companyID = key.companyID {
            guard let id = TenantID(validating: companyID) else {
                throw RPCError(.internal, "the API key \(keyID) names a malformed company")
            }
            if let reason = key.suspension {
                throw RPCError(.permissionDenied, "the company is suspended" + (reason.isEmpty ? "" : ": \(reason)"))
            }
            tenant = id
        }
        let caller = Caller(keyID: keyID, role: key.role, tenantID: tenant, userID: key.userID, expiresAt: expires)
        return (caller, key.secretHash)
    }

    /// Moves each time access may have been taken away (``invalidate(keyIDs:company:)``):
    /// long-lived calls compare it with the value at their last check.
    var revocations: UInt64 { revocationCount.withLockedValue { $0 } }

    /// Forgets cached answers for these keys (revoked) or every key of a company (suspended, user
    /// deactivated).
    ///
    /// Also moves ``revocations`` and calls `onRevocation`, so open streams recheck their callers
    /// at once (they end within a second of a revocation, suspension or deactivation).
    func invalidate(keyIDs: [String] = [], company: TenantID? = nil) {
        cache.withLockedValue { cache in
            for id in keyIDs { cache[id] = nil }
            if let company { cache = cache.filter { $0.value.caller.tenantID != company } }
        }
        revocationCount.withLockedValue { $0 &+= 1 }
        onRevocation()
    }
}
