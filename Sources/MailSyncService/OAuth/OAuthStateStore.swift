import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncSecurity
import MailSyncStorage

/// OAuth sign-ins started with `StartOAuthConnection` and not yet completed, kept in the server's
/// memory: the random `state` handed to the browser maps to whose mailbox is being connected and
/// the PKCE verifier, which never leaves the server.
///
/// Limits: a state lives ``lifetime`` (10 minutes) and is good for one `take` — taken states are
/// gone whether or not the completion then succeeds. At most ``maxPending`` states are kept
/// (``maxPendingPerCompany`` per company); starting beyond that drops the oldest. A restart
/// forgets every pending state: the user signs in again.
actor OAuthStateStore {
    struct Pending: Sendable {
        var tenant: TenantID
        /// Who started the flow (for the log) and whose mailbox it connects.
        var startedBy: String
        var userID: String
        var provider: MailProvider
        var redirectURI: String
        var codeVerifier: String
        var expiresAt: Timestamp
    }

    enum TakeError: Error, Equatable {
        case unknown, expired
    }

    static let lifetime: Int64 = 10 * 60 * 1_000_000
    static let maxPending = 10_000
    static let maxPendingPerCompany = 200

    private let clock: any WallClock
    private var pending: [String: Pending] = [:]
    /// States in the order they were made, for dropping the oldest.
    private var order: [String] = []

    init(clock: any WallClock) { self.clock = clock }

    /// Remembers a new sign-in; returns its state (43 characters of base64url, 256 random bits).
    func start(_ entry: Pending) -> String {
        prune()
        let sameCompany = order.filter { pending[$0]?.tenant == entry.tenant }
        if sameCompany.count >= Self.maxPendingPerCompany, let oldest = sameCompany.first { drop(oldest) }
        if order.count >= Self.maxPending, let oldest = order.first { drop(oldest) }
        let state = OAuthPKCE.randomToken()
        pending[state] = entry
        order.append(state)
        return state
    }

    /// The sign-in `state` stands for, removed so it cannot be used again. `unknown` for states
    /// never made, already taken, or another company's (indistinguishable on purpose);
    /// `expired` for one older than ``lifetime``.
    func take(_ state: String, tenant: TenantID) throws(TakeError) -> Pending {
        guard let entry = pending[state], entry.tenant == tenant else { throw .unknown }
        drop(state)
        guard clock.now() < entry.expiresAt else { throw .expired }
        return entry
    }

    private func drop(_ state: String) {
        pending[state] = nil
        order.removeAll { $0 == state }
    }

    private func prune() {
        let now = clock.now()
        // Expired entries stay briefly so a late completion hears "expired" rather than "unknown".
        let cutoff = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - Self.lifetime)
        for state in order where (pending[state]?.expiresAt ?? now) < cutoff { drop(state) }
    }
}

enum Base64URL {
    static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
