import MailSyncRPC
import MailSyncStorage

/// How storage failures reach callers: what went wrong and what to do, never SQL.
enum StorageFailure {
    static func rpcError(_ error: any Error, what: String) -> any Error {
        guard let storage = error as? StorageError else { return error }
        if storage.isFull {
            return RPCError(.resourceExhausted, "the server's disk is full, so \(what) was not saved (nothing was changed); try again after space is freed")
        }
        if storage.isBusy {
            return RPCError(.unavailable, "the company's database is busy; \(what) was not saved; retry")
        }
        switch storage.kind {
        case .notFound: return RPCError(.notFound, "no such company")
        case .newerSchema, .wrongOwner, .wrongApplicationID:
            return RPCError(.failedPrecondition, "the company's database cannot be opened: \(storage.message)")
        case .closed: return RPCError(.unavailable, "the server is shutting down")
        default: return RPCError(.internal, "a storage error stopped \(what)")
        }
    }
}
