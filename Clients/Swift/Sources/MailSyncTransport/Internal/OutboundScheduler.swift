import MailSyncWire
import NIOCore

/// What one stream still has to send, in order. Event-loop bound.
final class StreamOutbound {
    enum Item {
        /// A message; the promise completes when its last fragment is written, or fails when the
        /// stream closes first.
        case message(ByteBuffer, compressed: Bool, promise: EventLoopPromise<Void>?)
        /// A frame that is not flow controlled (END_STREAM, STATUS, CANCEL); it still waits for the
        /// messages queued before it.
        case frame(Frame)
    }

    var items = CircularBuffer<Item>()
    var window: SendWindow
    /// Whether the stream is in the scheduler's ready list.
    var isScheduled = false

    init(initialWindow: UInt32) {
        window = SendWindow(initial: initialWindow)
    }

    /// Drops everything queued, failing the waiting senders.
    func discard(_ error: any Error) {
        while let item = items.popFirst() {
            if case .message(_, _, let promise?) = item { promise.fail(error) }
        }
    }
}

/// Interleaves the streams' outbound items into frames, within the flow-control windows.
///
/// Fair by rotation: each turn writes at most one frame of one stream, then moves to the next
/// ready stream. A stream whose own window is empty leaves the ready list until a WINDOW_UPDATE
/// for it arrives; streams blocked by the connection window stay in it.
struct OutboundScheduler {
    var connectionWindow: SendWindow
    var maxFrameSize: Int
    private var ready = CircularBuffer<UInt32>()

    init(connectionWindow: UInt32, maxFrameSize: UInt32) {
        self.connectionWindow = SendWindow(initial: connectionWindow)
        self.maxFrameSize = Int(maxFrameSize)
    }

    mutating func enqueue(_ item: StreamOutbound.Item, streamID: UInt32, on stream: StreamOutbound) {
        stream.items.append(item)
        markReady(streamID, stream)
    }

    /// Puts a stream back in the ready list (after its window grew).
    mutating func markReady(_ streamID: UInt32, _ stream: StreamOutbound) {
        guard !stream.isScheduled, !stream.items.isEmpty else { return }
        stream.isScheduled = true
        ready.append(streamID)
    }

    var hasReadyStreams: Bool { !ready.isEmpty }

    /// Writes every frame the windows allow into `output`; returns the promises of the messages
    /// completed, to succeed once the bytes are handed to the channel.
    mutating func drain(
        into output: inout OutboundBytes, lookup: (UInt32) -> StreamOutbound?
    ) -> [EventLoopPromise<Void>] {
        var completed: [EventLoopPromise<Void>] = []
        var turnsWithoutProgress = 0
        while turnsWithoutProgress < ready.count, let id = ready.popFirst() {
            guard let stream = lookup(id), let head = stream.items.first else {
                lookup(id)?.isScheduled = false
                continue
            }
            switch head {
            case .frame(let frame):
                output.write(frame)
                stream.items.removeFirst()
            case .message(var bytes, let compressed, let promise):
                let remaining = bytes.readableBytes
                let allowance = min(maxFrameSize, stream.window.available, connectionWindow.available)
                if remaining > 0 && allowance <= 0 {
                    if stream.window.available <= 0 {
                        stream.isScheduled = false  // parked until this stream's WINDOW_UPDATE
                    } else {
                        ready.append(id)
                        turnsWithoutProgress += 1
                    }
                    continue
                }
                let chunk = bytes.readSlice(length: min(remaining, allowance))!
                var flags: FrameFlags = compressed ? .compressed : []
                if bytes.readableBytes > 0 { flags.insert(.more) }
                output.writeMessage(streamID: id, flags: flags, chunk: chunk)
                stream.window.spend(chunk.readableBytes)
                connectionWindow.spend(chunk.readableBytes)
                if bytes.readableBytes == 0 {
                    stream.items.removeFirst()
                    if let promise { completed.append(promise) }
                } else {
                    stream.items[stream.items.startIndex] = .message(bytes, compressed: compressed, promise: promise)
                }
            }
            turnsWithoutProgress = 0
            if stream.items.isEmpty {
                stream.isScheduled = false
            } else {
                ready.append(id)
            }
        }
        return completed
    }
}
