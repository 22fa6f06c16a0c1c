import CCurl
import MailSyncErrors
import MailSyncIMAP

#if canImport(Glibc)
import Glibc
#endif

extension CurlIMAPSession {
    /// RFC 2177 IDLE on the connection's thread: sends `aN IDLE`, waits for `+` (within
    /// `commandTimeout`), then waits up to `duration` for a change to the selected folder, for a
    /// byte on `wakeup`, or for the time to pass, polling the socket and `wakeup` together (no
    /// timer ticks); then sends `DONE` and reads the tagged completion (within `commandTimeout`).
    ///
    /// Everything the server sends meanwhile is held to `budget`: bytes and literals through the
    /// decoder's budget, responses that report no change (keep-alives, unknown tags, stray
    /// continuations) counted against ``IMAPReplyBudget/maxUnsolicited``. A `BYE`, a broken
    /// connection or a budget exceeded fails the connection; a `NO`/`BAD` to IDLE fails the call
    /// only (the server does not offer it for this folder).
    func idle(
        for duration: Duration, commandTimeout: Duration, wakeup: Int32, budget: IMAPReplyBudget
    ) -> Result<IdleResult, IMAPConnectionError> {
        if let failed { return .failure(failed) }
        guard handle != nil else { return .failure(closedError()) }
        let tag = "a\(nextTag)"
        nextTag += 1
        roundTripCount.wrappingAdd(1, ordering: .relaxed)
        decoder.budget = IMAPByteBudget(maxBytes: budget.maxBytes, maxLiteralSize: budget.maxLiteralSize)
        replyBudget = (budget, "IDLE")
        var state = IdleState(tag: tag, budget: budget)
        do throws(IMAPConnectionError) {
            exchange.command("\(tag) IDLE")
            let started = CommandDeadline(timeout: commandTimeout, runDeadline: nil)
            try send(Array("\(tag) IDLE\r\n".utf8), deadline: started)
            // Until the server says it idles (or refuses, or already completed).
            while !state.idling && state.completion == nil {
                guard let response = try nextResponse(budget: budget, what: "IDLE") else {
                    try receive(deadline: started, bye: nil, phase: .idle)
                    continue
                }
                try take(response, into: &state)
            }
            if let completion = state.completion { return finished(completion, state) }
            // Idling: until a change, the wake-up, or the end of `duration`.
            let until = ContinuousClock.now + duration
            while state.end == nil {
                if let response = try nextResponse(budget: budget, what: "IDLE") {
                    try take(response, into: &state)
                    // The server ended the IDLE on its own: no DONE is owed.
                    if let completion = state.completion { return finished(completion, state) }
                    continue
                }
                // TLS may hold decrypted bytes the socket no longer shows: read before polling.
                if try readAvailable(bye: nil, phase: .idle) { continue }
                switch try waitIdling(until: until, wakeup: wakeup) {
                case .socket: _ = try readAvailable(bye: nil, phase: .idle)
                case .wakeup: state.end = .cancelled
                case .timeout: state.end = .timedOut
                }
            }
            exchange.command("DONE")
            let done = CommandDeadline(timeout: commandTimeout, runDeadline: nil)
            try send(Array("DONE\r\n".utf8), deadline: done)
            while true {
                if let completion = state.completion { return finished(completion, state) }
                guard let response = try nextResponse(budget: budget, what: "IDLE") else {
                    try receive(deadline: done, bye: nil, phase: .idle)
                    continue
                }
                try take(response, into: &state)
            }
        } catch {
            return .failure(error)
        }
    }

    /// What one IDLE has seen so far.
    struct IdleState {
        let tag: String
        let budget: IMAPReplyBudget
        var idling = false
        var end: IdleResult.End?
        var changes: [MailSyncIMAP.IMAPResponse] = []
        var unsolicited = 0
        var completion: StatusResponse?
    }

    private func take(_ response: MailSyncIMAP.IMAPResponse, into state: inout IdleState) throws(IMAPConnectionError) {
        exchange.response(response)
        switch response {
        case .tagged(let tag, let status) where tag == state.tag:
            state.completion = status
            return
        case .continuation where !state.idling:
            state.idling = true
            return
        case .untagged(.exists), .untagged(.recent), .untagged(.expunge), .untagged(.fetch):
            if state.end == nil { state.end = .changed }
            if state.changes.count < state.budget.maxUnsolicitedKept { state.changes.append(response) }
            return
        case .untagged(.status(let status)) where status.condition == .bye:
            // The server is going away: nothing more will come on this connection.
            throw broken(.imap(MailSyncErrors.IMAPResponse(status: .bye, text: Self.respText(status), phase: .idle)))
        default:
            state.unsolicited += 1
            if state.unsolicited > state.budget.maxUnsolicited {
                throw broken(ReplyOverLimit.unsolicited(
                    limit: state.budget.maxUnsolicited, what: "IDLE", last: ReplyOverLimit.quote(response), host: host, port: port))
            }
        }
    }

    private func finished(_ completion: StatusResponse, _ state: IdleState) -> Result<IdleResult, IMAPConnectionError> {
        guard completion.condition == .ok, state.idling else {
            // A completion without the `+` first breaks RFC 2177: taken as a refusal, or a
            // caller re-issuing the IDLE would spin on a server that completes it at once.
            let text = completion.condition == .ok ? "completed IDLE without idling (no \"+\")" : Self.respText(completion)
            let imap = MailSyncErrors.IMAPResponse(
                status: completion.condition == .no ? .no : .bad, text: text, phase: .idle, tag: state.tag)
            var error = IMAPConnectionError(.imap(imap), responses: state.changes)
            error.exchange = exchange.lines
            return .failure(error)
        }
        // A server that completes IDLE before `DONE` (it stopped idling on its own) ends the wait
        // as if the time had passed: the caller re-issues it.
        return .success(IdleResult(end: state.end ?? .timedOut, changes: state.changes))
    }

    private enum IdleWake { case socket, wakeup, timeout }

    /// Polls the socket and the wake-up pipe until `until`; a signal interrupting poll is retried.
    private func waitIdling(until: ContinuousClock.Instant, wakeup: Int32) throws(IMAPConnectionError) -> IdleWake {
        while true {
            let left = until - ContinuousClock.now
            guard left > .zero else { return .timeout }
            // Woken by the socket or the pipe long before; capped so the arithmetic stays small.
            let slice = min(left, .seconds(3600))
            let milliseconds = Int32(slice.components.seconds * 1000 + slice.components.attoseconds / 1_000_000_000_000_000 + 1)
            var descriptors = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, milliseconds)
            if ready > 0 {
                if descriptors[1].revents != 0 { return .wakeup }
                return .socket
            }
            if ready < 0 && errno != EINTR {
                throw broken(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: "poll: \(String(cString: strerror(errno)))")))
            }
        }
    }
}
