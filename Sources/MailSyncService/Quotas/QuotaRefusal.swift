import Foundation
import MailSyncClient
import MailSyncEngine
import MailSyncRPC

/// The `resource exhausted` answers of the quotas, each saying which quota and what to do.
enum QuotaRefusal {
    /// A company's database at its storage quota (``StorageQuotaExceeded``).
    static func storage(_ refusal: StorageQuotaExceeded) -> RPCError {
        RPCError(.resourceExhausted, refusal.message)
    }

    static func rate(retryAfter seconds: Double) -> RPCError {
        let wait = max(1, Int(seconds.rounded(.up)))
        return RPCError(
            .resourceExhausted, "this API key is over its request rate; retry in \(wait) s (spread the calls, or ask an operator for a higher keyRequestsPerSecond)",
            trailers: [Metadata.retryAfterKey: String(Int(min(seconds * 1000, 86_400_000).rounded(.up)))])
    }

    static func leads(limit: Int, kind: String) -> RPCError {
        RPCError(.resourceExhausted, "the company may have at most \(limit) \(kind); this batch was not saved (batches before it were); delete leads no longer needed, or ask an operator to raise the limit")
    }
}
