import MailSyncRPC
import MailSyncWire
import NIOCore

/// The life of one server connection, as a value: each event returns the actions the connection
/// handler must carry out, in order. The handler owns the channel, the streams and the timers; this
/// type owns the decisions (phase, stream ids, the call count, whether the client sent GOAWAY).
///
/// ```
/// awaitingPreface ──preface──▶ awaitingSettings ──SETTINGS──▶ active ──shutdown / half-close──▶ draining(last id)
///        │                            │                          │                                    │
///        └──── connection error, handshake timeout, idle timeout, client GOAWAY, last call ended ─────┴──▶ closed
/// ```
/// A connection error (anything that breaks the protocol) in any phase but `closed` is answered
/// with GOAWAY naming the rule, every call ends with `unavailable`, and the connection closes.
/// Events in `closed` do nothing. Events the handler cannot produce in a phase (a frame before the
/// preface is parsed, a CALL_START before SETTINGS) are listed with each transition.
struct ServerConnectionState {
    enum Phase: Equatable {
        case awaitingPreface
        case awaitingSettings
        case active
        /// GOAWAY sent (or the client half-closed): calls up to the id run on, new ones are refused.
        case draining(lastStreamID: UInt32)
        case closed
    }

    enum Action: Equatable {
        /// Write our preface (answered even to a bad one, so the client can read the GOAWAY).
        case writePreface
        /// Write our SETTINGS.
        case writeSettings
        case armHandshakeTimer
        /// Take the client's SETTINGS (flow-control windows, frame size) as the peer's.
        case acceptSettings
        case cancelHandshakeTimer
        case armIdleTimer
        case cancelIdleTimer
        case startKeepalive
        case writeGoAway(GoAway)
        /// End every call still open with this error (no STATUS: the connection is going).
        case endCalls(RPCError)
        /// End the calls still waiting for client frames with STATUS `cancelled` and this error.
        case cancelReceivingCalls(RPCError)
        /// Hand the frame to the stream and flow-control code.
        case dispatchFrame
        /// Open the call and start its handler task.
        case openCall
        /// Answer the CALL_START with a STATUS at once; the call never runs.
        case refuse(streamID: UInt32, StatusCode, String)
        /// The frame is legal but does no work: count it against the no-work budget.
        case countNoWork(String)
        /// Write what is queued now.
        case flush
        /// Write what is queued in a later turn of the event loop (batching).
        case scheduleFlush
        /// Write what is queued, stop every timer and close the channel.
        case close
    }

    /// Which frame arrived, as far as the phase cares.
    enum FrameKind: Equatable {
        case settings
        case other
    }

    private(set) var phase = Phase.awaitingPreface
    /// The highest stream id the client opened (or tried to); new ids must be above it.
    private(set) var highestStreamID: UInt32 = 0
    /// Calls opened and not ended.
    private(set) var activeCalls = 0
    private(set) var clientSentGoAway = false

    let maxConcurrentCalls: Int
    let maxMetadataSize: Int
    let handshakeTimeout: TimeAmount
    let idleTimeout: TimeAmount

    init(maxConcurrentCalls: Int, maxMetadataSize: Int, handshakeTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxMetadataSize = maxMetadataSize
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
    }

    // MARK: Handshake

    /// The TCP connection is up. `registered`: the server had room for it; otherwise it is refused
    /// with GOAWAY `tooManyConnections` (after our preface, so the client can read it).
    mutating func onChannelActive(registered: Bool, maxConnections: Int) -> [Action] {
        guard phase == .awaitingPreface else { return [] }  // channelActive comes once, first
        guard registered else {
            return [.writePreface] + onConnectionError(ProtocolError(
                .tooManyConnections,
                "the server is at its limit of \(maxConnections) connections or shutting down; retry later"))
        }
        return [.armHandshakeTimer]
    }

    /// No preface and SETTINGS within `handshakeTimeout`. Ignored once the handshake is done (the
    /// timer was cancelled then; a late firing changes nothing).
    mutating func onHandshakeTimeout() -> [Action] {
        let error = ProtocolError(.handshakeTimeout, "no preface and SETTINGS within \(handshakeTimeout.seconds) s")
        switch phase {
        case .awaitingPreface: return [.writePreface] + onConnectionError(error)
        case .awaitingSettings: return onConnectionError(error)
        case .active, .draining, .closed: return []
        }
    }

    /// The client's preface parsed: our preface and SETTINGS when it speaks our version, GOAWAY
    /// `unsupportedVersion` otherwise. Only in `awaitingPreface` (the handler parses a preface
    /// nowhere else); ignored in any other phase.
    mutating func onPreface(version: UInt16) -> [Action] {
        guard phase == .awaitingPreface else { return [] }
        guard version == Preface.currentVersion else {
            return [.writePreface] + onConnectionError(ProtocolError(
                .unsupportedVersion,
                "this server speaks protocol version \(Preface.currentVersion); the client offered version \(version)"))
        }
        phase = .awaitingSettings
        return [.writePreface, .writeSettings]
    }

    /// The bytes where the preface should be are not one: our preface, then GOAWAY with the
    /// parser's reason. Ignored outside `awaitingPreface`.
    mutating func onInvalidPreface(_ error: ProtocolError) -> [Action] {
        guard phase == .awaitingPreface else { return [] }
        return [.writePreface] + onConnectionError(error)
    }

    /// A frame arrived. The first must be SETTINGS, and SETTINGS comes only once; every other
    /// frame of a ready connection goes to `dispatchFrame`. Frames are decoded only after the
    /// preface and never after `closed`: in those phases this does nothing.
    mutating func onFrame(_ kind: FrameKind) -> [Action] {
        switch (phase, kind) {
        case (.awaitingSettings, .settings):
            phase = .active
            return [.acceptSettings, .cancelHandshakeTimer, .armIdleTimer, .startKeepalive]
        case (.awaitingSettings, .other):
            return onConnectionError(ProtocolError(.protocolError, "the first frame after the preface must be SETTINGS"))
        case (.active, .settings), (.draining, .settings):
            return onConnectionError(ProtocolError(.protocolError, "SETTINGS may be sent only once per connection"))
        case (.active, .other), (.draining, .other):
            return [.dispatchFrame]
        case (.awaitingPreface, _), (.closed, _):
            return []
        }
    }

    // MARK: Calls

    /// A CALL_START for stream `id` whose metadata takes `metadataSize` bytes. The id must be odd
    /// and above every id before it (a protocol error otherwise), and the client must not have sent
    /// GOAWAY. A valid call is refused with a STATUS while draining (`unavailable`), at the
    /// concurrency limit or over the metadata limit (`resourceExhausted`); otherwise it opens.
    /// Only after SETTINGS (`onFrame` dispatches it); ignored in other phases.
    mutating func onCallStart(id: UInt32, metadataSize: Int) -> [Action] {
        switch phase {
        case .active, .draining: break
        case .awaitingPreface, .awaitingSettings, .closed: return []
        }
        guard id % 2 == 1 else {
            return onConnectionError(ProtocolError(.protocolError, "stream \(id) is even: a client opens odd-numbered streams"))
        }
        guard id > highestStreamID else {
            return onConnectionError(ProtocolError(
                .protocolError, "stream \(id) is not above the last one opened (\(highestStreamID)): stream ids are never reused"))
        }
        highestStreamID = id
        if clientSentGoAway {
            return onConnectionError(ProtocolError(
                .protocolError, "CALL_START on stream \(id) after the client's own GOAWAY: a client that sent GOAWAY opens no new calls"))
        }
        if case .draining = phase {
            return [.refuse(streamID: id, .unavailable, "the server is shutting down and did not process this call; retry on a new connection")]
        }
        guard activeCalls < maxConcurrentCalls else {
            return [.refuse(
                streamID: id, .resourceExhausted,
                "this connection already has \(maxConcurrentCalls) calls in flight, the limit; wait for one to finish")]
        }
        guard metadataSize <= maxMetadataSize else {
            return [.refuse(
                streamID: id, .resourceExhausted, "the call's metadata takes \(metadataSize) bytes, over the limit of \(maxMetadataSize)")]
        }
        activeCalls += 1
        return [.openCall, .cancelIdleTimer]
    }

    /// A frame names stream `id`, which is not open: fine if it was opened once (the frame crossed
    /// our STATUS), a protocol error if it never was. Only after SETTINGS (`onFrame` dispatches
    /// the frame); ignored in other phases.
    mutating func onFrameForUnknownStream(id: UInt32) -> [Action] {
        switch phase {
        case .active, .draining: break
        case .awaitingPreface, .awaitingSettings, .closed: return []
        }
        guard id > highestStreamID else { return [] }
        return onConnectionError(ProtocolError(.protocolError, "a frame for stream \(id), which was never opened"))
    }

    /// An opened call ended (STATUS queued, cancelled, deadline). With no call left a draining
    /// connection flushes (and closes once written, see `onFlushed`), any other arms the idle
    /// timer. Ignored when no call is counted (the handler ends each call once).
    mutating func onCallEnded() -> [Action] {
        guard activeCalls > 0 else { return [] }
        activeCalls -= 1
        guard activeCalls == 0 else { return [] }
        switch phase {
        case .draining: return [.scheduleFlush]
        case .closed: return []
        case .awaitingPreface, .awaitingSettings, .active: return [.armIdleTimer]
        }
    }

    /// Everything queued was written. A draining connection with no call and no stream left
    /// (`streamsLeft`: streams whose last frames are still queued) closes.
    mutating func onFlushed(streamsLeft: Bool) -> [Action] {
        guard case .draining = phase, activeCalls == 0, !streamsLeft else { return [] }
        return close()
    }

    // MARK: Ending

    /// The client sent GOAWAY: it opens no new calls; with none running the connection closes.
    /// A repeated GOAWAY does no work.
    mutating func onClientGoAway() -> [Action] {
        switch phase {
        case .active, .draining: break
        case .awaitingPreface, .awaitingSettings, .closed: return []
        }
        if clientSentGoAway { return [.countNoWork("a repeated GOAWAY")] }
        clientSentGoAway = true
        return activeCalls == 0 ? close() : []
    }

    /// The client shut its sending side (TCP half-close): before the handshake is done the
    /// connection closes; after it, the connection drains: calls still waiting for client frames
    /// are cancelled, complete ones run on.
    mutating func onInputClosed() -> [Action] {
        let cut = RPCError(.cancelled, "the client shut its sending side (TCP half-close) before ending the call")
        switch phase {
        case .awaitingPreface, .awaitingSettings:
            return close()
        case .active:
            phase = .draining(lastStreamID: highestStreamID)
            return [.cancelReceivingCalls(cut), .flush]
        case .draining:
            return [.cancelReceivingCalls(cut), .flush]
        case .closed:
            return []
        }
    }

    /// No call for `idleTimeout`: GOAWAY `noError` and close. Ignored when a call runs (it
    /// started as the timer fired), before SETTINGS (the timer is armed only after them) and once
    /// closed.
    mutating func onIdleTimeout() -> [Action] {
        switch phase {
        case .active, .draining: break
        case .awaitingPreface, .awaitingSettings, .closed: return []
        }
        guard activeCalls == 0 else { return [] }
        return [.writeGoAway(GoAway(lastStreamID: highestStreamID, code: .noError, message: "no calls for \(idleTimeout.seconds) s"))]
            + close()
    }

    /// Graceful shutdown: GOAWAY `noError`; calls in flight run on, new ones are refused as
    /// retryable. Before the handshake is done the connection just closes.
    mutating func onBeginShutdown() -> [Action] {
        switch phase {
        case .active:
            phase = .draining(lastStreamID: highestStreamID)
            return [.writeGoAway(GoAway(lastStreamID: highestStreamID, code: .noError, message: "the server is shutting down")), .flush]
        case .awaitingPreface, .awaitingSettings:
            return close()
        case .draining, .closed:
            return []
        }
    }

    /// The shutdown grace period is over: what still runs ends with `unavailable`, then close.
    mutating func onForceClose() -> [Action] {
        guard phase != .closed else { return [] }
        activeCalls = 0
        return [.endCalls(RPCError(.unavailable, "the server shut down before the call finished"))] + close()
    }

    /// A connection error: GOAWAY naming the broken rule, every call ends with `unavailable`,
    /// close. Nothing in `closed`.
    mutating func onConnectionError(_ error: ProtocolError) -> [Action] {
        guard phase != .closed else { return [] }
        activeCalls = 0
        return [
            .writeGoAway(GoAway(lastStreamID: highestStreamID, code: error.code, message: error.message)),
            .endCalls(RPCError(.unavailable, "the connection failed: \(error.message)")),
        ] + close()
    }

    /// The channel became inactive: every call ends with `cancelled` (also after `close`, which
    /// leaves the streams whose STATUS was still queued).
    mutating func onChannelInactive() -> [Action] {
        activeCalls = 0
        return [.endCalls(RPCError(.cancelled, "the client's connection closed"))]
    }

    /// The handler left the pipeline: as `onChannelInactive` unless already closed; `closed` after.
    mutating func onHandlerRemoved() -> [Action] {
        guard phase != .closed else { return [] }
        phase = .closed
        activeCalls = 0
        return [.endCalls(RPCError(.cancelled, "the client's connection closed"))]
    }

    private mutating func close() -> [Action] {
        guard phase != .closed else { return [] }
        phase = .closed
        return [.close]
    }
}

extension TimeAmount {
    var seconds: Double { Double(nanoseconds) / 1e9 }
}
