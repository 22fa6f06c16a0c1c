import MailSyncWire
import NIOCore

/// The outgoing half that the server and the client connection handlers share: frames are encoded
/// into one buffer and written with one `writeAndFlush` per event-loop turn (a flush asked for many
/// times in a turn runs once, in the next), the streams' queued items are interleaved by the
/// `OutboundScheduler`, and a silent peer is pinged (`Keepalive`).
///
/// Event-loop bound (hence `@unchecked Sendable`: every call is made on the connection's loop).
final class ConnectionWriter: @unchecked Sendable {
    /// Encoded bytes not yet written to the channel.
    private(set) var output = OutboundBytes()
    /// Interleaves the streams' queued items; replaced when the peer's SETTINGS arrive.
    var scheduler: OutboundScheduler
    private var flushScheduled = false
    private let keepalive = Keepalive()

    /// Until the peer's SETTINGS arrive, the protocol's default window and frame size apply.
    init() {
        scheduler = OutboundScheduler(
            connectionWindow: ConnectionSettings.defaults.initialConnectionWindow,
            maxFrameSize: ConnectionSettings.defaults.maxFrameSize)
    }

    /// Appends a frame to the buffer (not written until the next flush).
    func write(_ frame: Frame) { output.write(frame) }

    /// Appends our protocol preface.
    func writePreface() { Preface().write(to: &output.buffer) }

    /// The peer's SETTINGS arrived: its connection window and frame size bound what is sent.
    func accept(_ settings: ConnectionSettings) {
        scheduler = OutboundScheduler(connectionWindow: settings.initialConnectionWindow, maxFrameSize: settings.maxFrameSize)
    }

    /// Runs `flush` in a later turn of `loop`; asking again before it ran does nothing, so the
    /// frames queued in one turn go out in one write.
    func scheduleFlush(on loop: any EventLoop, _ flush: @escaping @Sendable () -> Void) {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.execute(flush)
    }

    /// A flush is running (scheduled or not): the next `scheduleFlush` schedules again.
    func flushStarted() { flushScheduled = false }

    /// Moves what the streams may send now (within the flow-control windows) into the buffer.
    /// Returns the promises of messages now fully in it, to succeed once it is written.
    func drain(_ outbound: (UInt32) -> StreamOutbound?) -> [EventLoopPromise<Void>] {
        scheduler.drain(into: &output, lookup: outbound)
    }

    /// Writes and flushes what is waiting, when anything is (one flush: the parts go out in one
    /// vectored write).
    func writeOut(to context: ChannelHandlerContext) {
        guard output.hasBytes else { return }
        let (parts, last) = output.take(next: context.channel.allocator.buffer(capacity: 4096))
        for part in parts { context.write(NIOAny(part), promise: nil) }
        if last.readableBytes > 0 {
            context.writeAndFlush(NIOAny(last), promise: nil)
        } else {
            context.flush()
        }
    }

    /// Forgets the unwritten bytes (the channel is gone).
    func discardBuffer() { output = OutboundBytes() }

    // MARK: Keepalive

    /// Pings the peer after `interval` of silence: the PING is written and `flush` called; with no
    /// answer within `timeout`, `onTimeout` (which fails the connection).
    func startKeepalive(
        on loop: any EventLoop, interval: TimeAmount, timeout: TimeAmount,
        flush: @escaping @Sendable () -> Void, onTimeout: @escaping @Sendable () -> Void
    ) {
        keepalive.start(on: loop, interval: interval, timeout: timeout) { [unowned self] in
            write(.ping(ack: false, data: UInt64.random(in: 0...UInt64.max)))
            flush()
        } onTimeout: {
            onTimeout()
        }
    }

    /// Anything arrived from the peer (it is not silent).
    func readHappened() { keepalive.readHappened() }

    /// A PING arrived. A PING ACK answers our ping; returns false when none was waiting (the ACK
    /// does no work). A PING is answered with its ACK.
    func receivePing(ack: Bool, data: UInt64) -> Bool {
        if ack {
            guard keepalive.awaitingAnswer else { return false }
            keepalive.pingAnswered()
        } else {
            write(.ping(ack: true, data: data))
        }
        return true
    }

    func stopKeepalive() { keepalive.stop() }
}
