import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// How storage failures reach callers: what went wrong and what to do, never SQL.
enum StorageFailure {
    static func rpcError(_ error: any Error, what: String) -> any Error {
        if let data = error as? TenantDataError { return data.rpcError }
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

extension TenantDataError: RPCErrorConvertible {
    /// The status a caller gets: the data layer's message with the status its kind means. A corrupt
    /// row is `internal` (the caller can do nothing about it), naming what cannot be read.
    public var rpcError: RPCError {
        switch kind {
        case .notFound: RPCError(.notFound, message)
        case .invalidArgument: RPCError(.invalidArgument, message)
        case .failedPrecondition: RPCError(.failedPrecondition, message)
        case .corruptRow: RPCError(.internal, "stored data cannot be read: \(message)")
        }
    }
}
