import MailSyncStorage
import MailSyncTenantData
import NIOConcurrencyHelpers

/// How RPC handlers tell the sync engine that a company's schedule changed (a mailbox connected,
/// new credentials, sync now, a place freed under the limit): the engine rereads that company's
/// `next_sync_at` values from its database, which stay the truth.
///
/// Before the engine attaches (and in processes without one) requests are dropped: the engine
/// reads every schedule when it starts.
public final class SyncRequests: Sendable {
    private let handler = NIOLockedValueBox<(@Sendable (TenantID) -> Void)?>(nil)

    public init() {}

    package func attach(_ body: @escaping @Sendable (TenantID) -> Void) {
        handler.withLockedValue { $0 = body }
    }

    package func detach() {
        handler.withLockedValue { $0 = nil }
    }

    /// Asks the engine to reread `tenant`'s schedule. Cheap; never blocks on a sync.
    package func scheduleChanged(_ tenant: TenantID) {
        handler.withLockedValue { $0 }?(tenant)
    }
}
