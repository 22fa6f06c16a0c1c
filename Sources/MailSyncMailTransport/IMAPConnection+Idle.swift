import MailSyncErrors
import MailSyncIMAP

extension IMAPConnection {
    /// Waits for the selected folder to change, with RFC 2177 IDLE: sends `IDLE`, waits up to
    /// `duration` for the server to report EXISTS, RECENT, EXPUNGE or FETCH, then sends `DONE`
    /// and reads the completion. Select (or examine) a folder first, and check that
    /// ``capabilities()`` contains `IDLE`.
    ///
    /// - `duration`: how long to wait; keep it under the server's limit (RFC 2177: servers may
    ///   drop a client idle for 30 minutes; 25 minutes is the usual re-issue point) and call again.
    /// - Cancelling the calling task (or ``close()``) ends the wait at once through a wake-up pipe
    ///   polled with the socket (no timer ticks while idle); the call then still sends `DONE` and
    ///   reads the completion (within ``commandTimeout``) and returns ``IdleResult/End/cancelled``.
    /// - The connection's thread waits in poll(); the calling task only awaits a continuation,
    ///   so the cooperative pool never blocks.
    /// - What the server sends meanwhile is held to `budget` (default ``IMAPReplyBudget/idle``).
    ///
    /// A server that ends the IDLE on its own (its tagged `OK` before `DONE`) ends the call early
    /// with ``IdleResult/End/timedOut``.
    ///
    /// Throws ``IMAPConnectionError``: a `NO`/`BAD` to IDLE, or an `OK` without the `+` first
    /// (phase `.idle`; the connection stays usable), or a `BYE`, broken connection, timeout waiting for `+` or the completion, or a
    /// budget exceeded (the connection is unusable afterwards).
    public func idle(for duration: Duration, budget: IMAPReplyBudget = .idle) async throws(IMAPConnectionError) -> IdleResult {
        guard let wakeup = IdleWakeup() else {
            throw IMAPConnectionError(.connection(ConnectionFailure(
                .resetMidSession, host: host, port: port, detail: "no file descriptors left for IDLE's wake-up pipe")))
        }
        idleWakeup.withLock { $0 = wakeup }
        defer {
            idleWakeup.withLock { $0 = nil }
            wakeup.close()
        }
        let session = self.session
        let commandTimeout = self.commandTimeout
        let result: Result<IdleResult, IMAPConnectionError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<IdleResult, IMAPConnectionError>, Never>) in
                let submitted = thread.submit {
                    continuation.resume(returning: session.idle(
                        for: duration, commandTimeout: commandTimeout, wakeup: wakeup.readDescriptor, budget: budget))
                }
                if !submitted { continuation.resume(returning: .failure(session.closedError())) }
            }
        } onCancel: {
            wakeup.signal()
        }
        return try result.get()
    }
}
