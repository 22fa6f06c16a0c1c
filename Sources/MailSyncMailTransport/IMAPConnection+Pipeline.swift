import MailSyncErrors
import MailSyncIMAP

extension IMAPConnection {
    /// Pipelining: sends every command line at once (tags assigned in order), then reads until
    /// each one completed. Returns, per command, its responses: the untagged ones first, its tagged
    /// completion last.
    ///
    /// Untagged responses that answer no command in particular (EXISTS, EXPUNGE, FETCH flag
    /// updates arriving meanwhile) go to the command that was running when they came: the first
    /// one not yet completed, as servers do. The whole batch counts as one round trip
    /// (``roundTrips``). An empty list sends nothing and returns `[]`.
    ///
    /// Each line is one command without CR, LF or NUL (a line with one is refused unsent: it
    /// would let text smuggle in a command of its own). Throws like
    /// ``command(_:timeout:budget:)``: a `NO`/`BAD` to any command throws the first failing
    /// command's error with its responses, after every
    /// completion was read (the connection stays usable); a broken connection, a `timeout`
    /// (default ``commandTimeout``, for the whole batch however slowly the server sends) or the
    /// ``runDeadline`` passing leaves it unusable.
    ///
    /// Servers may run pipelined commands concurrently (Dovecot does): a later command's data can
    /// then arrive before an earlier one's completion and is attributed to the earlier one. Read
    /// the data of commands of one kind together (as ``fetchHeaders(uids:maxCommandLength:)``
    /// does); each command's own tagged completion is always last in its own list.
    ///
    /// The responses of the whole batch are held in memory, bounded by `budget` (default
    /// ``IMAPReplyBudget/standard``, 64 MiB): bytes charged as they arrive, literals from their
    /// header, responses nobody asked for dropped past a small bound. Going over it throws a
    /// `ConnectionFailure` of kind `.replyOverLimit` naming the server and what was exceeded, and
    /// leaves the connection unusable. Split very large work into batches.
    public func pipeline(
        _ commands: [String], timeout: Duration? = nil, budget: IMAPReplyBudget = .standard
    ) async throws(IMAPConnectionError) -> [[MailSyncIMAP.IMAPResponse]] {
        for text in commands where text.utf8.contains(13) || text.utf8.contains(10) || text.utf8.contains(0) {
            // Never sent: the line would smuggle in a command of its own.
            throw IMAPConnectionError(.imap(MailSyncErrors.IMAPResponse(
                status: .bad, text: "Not sent: a command line holds CR, LF or NUL", phase: .other)))
        }
        let timeout = timeout ?? commandTimeout
        let session = self.session
        let runDeadline = self.runDeadline
        let downloadLimit = self.downloadLimit
        let result: Result<[[MailSyncIMAP.IMAPResponse]], IMAPConnectionError> = await withCheckedContinuation { continuation in
            let submitted = thread.submit {
                continuation.resume(returning: session.run(commands, timeout: timeout, runDeadline: runDeadline, downloadLimit: downloadLimit, budget: budget))
            }
            if !submitted { continuation.resume(returning: .failure(session.closedError())) }
        }
        return try result.get()
    }

    /// How many times this connection waited for the server since connect (login excluded): each
    /// ``command(_:timeout:budget:)`` and each ``pipeline(_:timeout:budget:)`` batch counts one. What a sync
    /// poll costs in latency is roughly this times the network's round-trip time.
    public var roundTrips: Int { session.roundTrips }

    /// Bytes received from the server since login (what a provider counts against its daily
    /// download limit, give or take framing).
    public var bytesReceived: Int64 { session.bytesReceived.load(ordering: .relaxed) }

    /// Commands sent since login.
    public var commandsSent: Int { session.commandsSent.load(ordering: .relaxed) }

    /// The server's capabilities after login, upper-cased (`IMAP4REV1`, `SPECIAL-USE`, …).
    ///
    /// Taken from the login's reply when it carried them (`OK [CAPABILITY …]`, or `* CAPABILITY`
    /// just before it: Dovecot, most servers; no round trip); otherwise asked once with
    /// `CAPABILITY`. Cached for the
    /// connection's life. Throws what ``command(_:timeout:budget:)`` throws.
    public func capabilities() async throws(IMAPConnectionError) -> Set<String> {
        if let known = capabilityCache.withLock({ $0 }) { return known }
        var found = Self.loginCapabilities(loginTranscript)
        if found == nil {
            var listed: Set<String> = []
            for response in try await command("CAPABILITY") {
                if case .untagged(.capability(let names)) = response { listed.formUnion(names.map { $0.uppercased() }) }
                if case .tagged(_, let status) = response, case .capability(let names) = status.code {
                    listed.formUnion(names.map { $0.uppercased() })
                }
            }
            found = listed
        }
        let result = found ?? []
        capabilityCache.withLock { $0 = result }
        return result
    }

    /// The capabilities the login command brought: its completion's `[CAPABILITY …]` code, or an
    /// untagged `* CAPABILITY` sent just before it (Dovecot does that after a SASL-IR login).
    /// Pre-login lists (greeting, libcurl's own CAPABILITY) are not used: servers add
    /// capabilities after login.
    static func loginCapabilities(_ transcript: [String]) -> Set<String>? {
        var decoder = IMAPResponseDecoder()
        var pending: [String]?
        var result: [String]?
        for line in transcript {
            decoder.append(Array(line.utf8) + [13, 10])
            while let response = try? decoder.next() {
                switch response {
                case .untagged(.capability(let names)):
                    pending = names
                case .tagged(_, let status):
                    if case .capability(let names) = status.code { result = names } else { result = pending }
                    pending = nil
                default:
                    break
                }
            }
        }
        return result.map { Set($0.map { $0.uppercased() }) }
    }
}
