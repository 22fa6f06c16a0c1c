import MailSyncRPC
import MailSyncWire

/// The life of one client connection, as a value: each event returns the actions the connection
/// handler must carry out, in order. The handler owns the channel, the calls and the timers; this
/// type owns the phase, why the connection closed, and whether its readiness was reported.
///
/// ```
/// connecting ──active──▶ awaitingPreface ──preface──▶ awaitingSettings ──SETTINGS──▶ ready
///                                                                                      │ GOAWAY, close, ids used up
///                                                                                      ▼
///        closed ◀──channel gone (from any phase)──────────────── draining(last id) ──last call ended──▶ (channel closes)
/// ```
/// A protocol error in any phase but `closed` closes the connection (with GOAWAY once the server
/// can read frames, that is after `awaitingPreface`); every call and the readiness promise fail with
/// `unavailable` naming the cause. Events the handler cannot produce in a phase do nothing; each
/// transition says which.
struct ClientConnectionState {
    enum Phase: Equatable {
        case connecting
        case awaitingPreface
        case awaitingSettings
        case ready
        /// No new calls: calls up to the id run on.
        case draining(lastStreamID: UInt32)
        case closed
    }

    enum Action: Equatable {
        /// Write our preface / our SETTINGS.
        case writePreface
        case writeSettings
        case writeGoAway(GoAway)
        /// Write what is queued now.
        case flush
        /// Take the server's SETTINGS (limits, windows, frame size) as the peer's.
        case acceptSettings
        case startKeepalive
        case stopKeepalive
        /// Report the connection ready (its `ready` promise).
        case succeedReady
        case failReady(RPCError)
        /// Tell the connection manager that this connection takes no new calls.
        case notifyUnusable
        /// Log the server's error GOAWAY.
        case logGoAway(GoAway)
        /// Fail the opened calls above this id and every call waiting for a slot with this error.
        case failCalls(above: UInt32, RPCError)
        /// Fail every call, opened or waiting, with this error.
        case endCalls(RPCError)
        /// When no call is left (opened or waiting), call `onNoCallsLeft`.
        case closeIfDrained
        /// Hand the frame to the call and flow-control code.
        case dispatchFrame
        /// Open the new call (now or when a slot frees).
        case openCall
        /// Fail the new call at once with this error.
        case failCall(RPCError)
        /// Close the channel (`onChannelClosed` follows).
        case closeChannel
    }

    /// Which frame arrived, as far as the phase cares.
    enum FrameKind: Equatable {
        case settings
        case goAway(GoAway)
        case other
    }

    private(set) var phase = Phase.connecting
    /// What calls fail with once the connection is gone.
    private(set) var closeReason = RPCError(.unavailable, "the connection closed")
    /// Whether `succeedReady` was returned (after it, closing does not fail the promise).
    private(set) var readyCompleted = false

    // MARK: Handshake

    /// The channel is active: our preface and SETTINGS go out at once. Only from `connecting`.
    mutating func onChannelActive() -> [Action] {
        guard phase == .connecting else { return [] }
        phase = .awaitingPreface
        return [.writePreface, .writeSettings, .flush]
    }

    /// The server's preface parsed: the connection waits for its SETTINGS, or fails with
    /// `unsupportedVersion` (no GOAWAY: the server's preface was not ours to answer). Ignored
    /// outside `awaitingPreface`, where the handler parses no preface.
    mutating func onPreface(version: UInt16) -> [Action] {
        guard phase == .awaitingPreface else { return [] }
        guard version == Preface.currentVersion else {
            return onConnectionError(ProtocolError(
                .unsupportedVersion,
                "the server speaks protocol version \(version); this client speaks \(Preface.currentVersion)"))
        }
        phase = .awaitingSettings
        return []
    }

    /// The server's first bytes are not a Mail Sync preface. Ignored outside `awaitingPreface`.
    mutating func onInvalidPreface(_ error: ProtocolError) -> [Action] {
        guard phase == .awaitingPreface else { return [] }
        return onConnectionError(ProtocolError(error.code, "the server did not answer with the Mail Sync preface: \(error.message)"))
    }

    /// A frame arrived. The first must be SETTINGS (a GOAWAY instead is the server refusing the
    /// connection); SETTINGS comes once; a GOAWAY later drains; anything else is dispatched.
    /// Frames are decoded only after the preface and not after `closed`: there this does nothing.
    mutating func onFrame(_ kind: FrameKind) -> [Action] {
        switch (phase, kind) {
        case (.awaitingSettings, .settings):
            phase = .ready
            readyCompleted = true
            return [.acceptSettings, .startKeepalive, .succeedReady]
        case (.awaitingSettings, .goAway(let goAway)):
            return onConnectionError(ProtocolError(goAway.code, "the server refused the connection: \(goAway.message)"))
        case (.awaitingSettings, .other):
            return onConnectionError(ProtocolError(.protocolError, "the server's first frame was not SETTINGS"))
        case (.ready, .settings), (.draining, .settings):
            return onConnectionError(ProtocolError(.protocolError, "SETTINGS may be sent only once per connection"))
        case (.ready, .goAway(let goAway)), (.draining, .goAway(let goAway)):
            return onServerGoAway(goAway)
        case (.ready, .other), (.draining, .other):
            return [.dispatchFrame]
        case (.connecting, _), (.awaitingPreface, _), (.closed, _):
            return []
        }
    }

    /// GOAWAY from a ready connection: no new calls; calls above its last stream id and calls still
    /// waiting fail with `unavailable` (the server did not process them: safe to retry); the others
    /// run on, and the channel closes after the last.
    private mutating func onServerGoAway(_ goAway: GoAway) -> [Action] {
        var actions: [Action] = []
        if goAway.code != .noError {
            actions.append(.logGoAway(goAway))
            closeReason = RPCError(.unavailable, "the server closed the connection: \(goAway.code): \(goAway.message)")
        }
        if case .draining = phase {} else { phase = .draining(lastStreamID: goAway.lastStreamID) }
        let notProcessed = RPCError(
            .unavailable, "the server is going away and did not process this call (\(goAway.message)); it is safe to retry")
        return actions + [.notifyUnusable, .failCalls(above: goAway.lastStreamID, notProcessed), .closeIfDrained]
    }

    // MARK: Calls

    /// A new call: opens on a ready connection; otherwise fails with `unavailable` (the reason the
    /// connection closed, once it has).
    func onOpenCall() -> Action {
        switch phase {
        case .ready: .openCall
        case .closed: .failCall(closeReason)
        case .connecting, .awaitingPreface, .awaitingSettings, .draining:
            .failCall(RPCError(.unavailable, "the connection is not accepting new calls"))
        }
    }

    /// The stream ids are used up (about a billion calls): new calls go to a new connection. Only
    /// while ready (calls open nowhere else); ignored otherwise.
    mutating func onStreamIDsExhausted(lastStreamID: UInt32) -> [Action] {
        guard phase == .ready else { return [] }
        phase = .draining(lastStreamID: lastStreamID)
        return [.notifyUnusable]
    }

    /// No call is left, opened or waiting: a draining connection writes what is queued and closes.
    mutating func onNoCallsLeft() -> [Action] {
        guard case .draining = phase else { return [] }
        return [.flush, .closeChannel]
    }

    // MARK: Ending

    /// Close when the calls in flight finish: GOAWAY to the server, no new calls. Before the
    /// connection is ready the channel just closes; nothing when draining or closed.
    mutating func onCloseGracefully() -> [Action] {
        switch phase {
        case .ready:
            phase = .draining(lastStreamID: UInt32.max)
            return [.writeGoAway(GoAway(lastStreamID: 0, code: .noError, message: "client closing")), .notifyUnusable, .closeIfDrained, .flush]
        case .connecting, .awaitingPreface, .awaitingSettings:
            return [.closeChannel]
        case .draining, .closed:
            return []
        }
    }

    /// A protocol error or an unanswered ping: GOAWAY naming it (unless the server's preface is
    /// still awaited), close, and everything fails with `unavailable`. Nothing in `closed`.
    mutating func onConnectionError(_ error: ProtocolError) -> [Action] {
        guard phase != .closed else { return [] }
        closeReason = RPCError(.unavailable, "the connection failed: \(error)")
        var actions: [Action] = []
        if phase != .awaitingPreface {
            actions += [.writeGoAway(GoAway(lastStreamID: 0, code: error.code, message: error.message)), .flush]
        }
        return actions + [.closeChannel] + onChannelClosed()
    }

    /// The channel reported an error (TLS, socket): it closes, and calls fail naming the error.
    mutating func onChannelError(_ description: String) -> [Action] {
        closeReason = RPCError(.unavailable, "the connection failed: \(description)")
        return [.closeChannel]
    }

    /// The channel is gone (also when it never became active): `closed`, and everything still
    /// waiting fails with the close reason. Once only.
    mutating func onChannelClosed() -> [Action] {
        guard phase != .closed else { return [] }
        phase = .closed
        var actions: [Action] = [.notifyUnusable]
        if !readyCompleted { actions.append(.failReady(closeReason)) }
        return actions + [.stopKeepalive, .endCalls(closeReason)]
    }
}
