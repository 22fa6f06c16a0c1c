import MailSyncRPC
import MailSyncWire
import NIOConcurrencyHelpers
import NIOCore

/// Messages received on one stream, waiting for the task that reads them.
///
/// Filled on the event loop, drained by one task. Reading a message reports its wire size through
/// `onConsumed`, which is how the stream's flow-control credit is returned: a reader that stops
/// reading stops the sender (nothing is reported once the sender has finished). Decompression
/// happens in the reading task, with the size limit applied to its output.
final class InboundQueue: @unchecked Sendable {
    struct Item {
        /// The message's first (usually only) fragment.
        var bytes: ByteBuffer
        /// Its later fragments, in order (empty for a message in one frame).
        var more: [ByteBuffer] = []
        var compressed: Bool
        /// Bytes this message took in MESSAGE frames (what flow control counted).
        var wireSize: Int

        /// The fragments' bytes, copied once into one array.
        func plainBytes() -> [UInt8] {
            guard !more.isEmpty else { return Array(bytes.readableBytesView) }
            let total = more.reduce(bytes.readableBytes) { $0 + $1.readableBytes }
            return [UInt8](unsafeUninitializedCapacity: total) { out, count in
                let destination = UnsafeMutableRawBufferPointer(out)
                var offset = 0
                func copy(_ fragment: ByteBuffer) {
                    fragment.withUnsafeReadableBytes { source in
                        UnsafeMutableRawBufferPointer(rebasing: destination[offset..<(offset + source.count)])
                            .copyMemory(from: source)
                        offset += source.count
                    }
                }
                copy(bytes)
                for fragment in more { copy(fragment) }
                count = total
            }
        }

        /// The fragments joined in one buffer (for decompression; copies only when there are several).
        func joined() -> ByteBuffer {
            guard !more.isEmpty else { return bytes }
            var all = bytes
            for var fragment in more { all.writeBuffer(&fragment) }
            return all
        }
    }

    private let lock = NIOLock()
    private var items = CircularBuffer<Item>()
    /// Set once: nil while open, success when the sender finished normally.
    private var end: Result<Void, RPCError>?
    private var waiter: CheckedContinuation<Item?, any Error>?
    /// The reader of `single`, woken by `finish` or by a second message, not by the first.
    private var endWaiter: CheckedContinuation<Void, Never>?

    private let maxMessageSize: Int
    private let onConsumed: @Sendable (Int) -> Void

    init(maxMessageSize: Int, onConsumed: @escaping @Sendable (Int) -> Void) {
        self.maxMessageSize = maxMessageSize
        self.onConsumed = onConsumed
    }

    /// Unread messages a stream may hold. Flow control bounds their bytes, not their number
    /// (empty messages cost no window), so this bounds the count.
    static let maxUnreadMessages = 4096

    /// Adds a message (event loop). Ignored after `finish`. False when the reader is
    /// `maxUnreadMessages` behind: the caller fails the stream.
    @discardableResult
    func push(_ item: Item) -> Bool {
        enum Outcome { case resume(CheckedContinuation<Item?, any Error>), wakeSingle(CheckedContinuation<Void, Never>), queued, full }
        let outcome: Outcome = lock.withLock {
            guard end == nil else { return .queued }
            if let waiter {
                self.waiter = nil
                return .resume(waiter)
            }
            guard items.count < Self.maxUnreadMessages else { return .full }
            items.append(item)
            if items.count >= 2, let endWaiter {
                self.endWaiter = nil
                return .wakeSingle(endWaiter)
            }
            return .queued
        }
        switch outcome {
        case .resume(let waiter):
            waiter.resume(returning: item)
            return true
        case .wakeSingle(let endWaiter):
            endWaiter.resume()
            return true
        case .queued: return true
        case .full: return false
        }
    }

    /// Ends the queue: buffered messages can still be read, then `next` returns nil (success) or
    /// throws the error. With `discardBuffered`, a failure is thrown at once instead. Only the first
    /// call counts.
    func finish(_ result: Result<Void, RPCError>, discardBuffered: Bool = true) {
        let (resume, singleReader): (CheckedContinuation<Item?, any Error>?, CheckedContinuation<Void, Never>?) = lock.withLock {
            guard end == nil else { return (nil, nil) }
            end = result
            if case .failure = result, discardBuffered { items.removeAll() }
            let taken = (waiter, endWaiter)
            waiter = nil
            endWaiter = nil
            return taken
        }
        singleReader?.resume()
        switch result {
        case .success: resume?.resume(returning: nil)
        case .failure(let error): resume?.resume(throwing: error)
        }
    }

    /// Whether every delivered message has been taken by the reader.
    var isDrained: Bool { lock.withLock { items.isEmpty } }

    /// The next message's bytes, decompressed; nil at a normal end.
    ///
    /// - Throws: the failure the queue was finished with; `RPCError(.resourceExhausted)` for a
    ///   message that decompresses past the limit; `RPCError(.invalidArgument)` for a corrupt one;
    ///   `RPCError(.cancelled)` when the reading task is cancelled while waiting.
    func next(onCancel: @escaping @Sendable () -> Void = {}) async throws -> [UInt8]? {
        guard let item = try await nextItem(onCancel: onCancel) else { return nil }
        // Once the sender has finished, no more messages can come: credit would be a wasted
        // frame, and reporting it a wasted hop to the event loop.
        if !lock.withLock({ end != nil }) { onConsumed(item.wireSize) }
        return try bytes(of: item)
    }

    /// A message's bytes, decompressed.
    ///
    /// - Throws: `RPCError(.resourceExhausted)` for a message that decompresses past the limit;
    ///   `RPCError(.invalidArgument)` for a corrupt one.
    func bytes(of item: Item) throws -> [UInt8] {
        guard item.compressed else { return item.plainBytes() }
        switch Compression.decompress(item.joined(), limit: maxMessageSize, allocator: ByteBufferAllocator()) {
        case .success(let plain):
            return plain.getBytes(at: plain.readerIndex, length: plain.readableBytes)!
        case .failure(.tooLarge(let limit)):
            throw RPCError(.resourceExhausted, "a compressed message decompresses to more than the limit of \(limit) bytes")
        case .failure(.corrupt(let why)):
            throw RPCError(.invalidArgument, "a compressed message could not be decompressed: \(why)")
        }
    }

    /// What `single` found.
    enum Single {
        /// The sender finished normally without a message.
        case none
        /// The sender finished normally after exactly one message.
        case one(Item)
        /// A second message arrived (the sender may not have finished).
        case several
    }

    /// For a call that takes exactly one message and then the end (a unary response): waits until
    /// the sender has finished or sent a second message, so the reader wakes once per call instead
    /// of once for the message and once for the end. No credit is reported (the stream is over).
    /// Read the message with `bytes(of:)`.
    ///
    /// - Throws: the failure the queue was finished with (also after one message);
    ///   `RPCError(.cancelled)` when the reading task is cancelled while waiting, after which
    ///   `onCancel` runs.
    func single(onCancel: @escaping @Sendable () -> Void = {}) async throws -> Single {
        if let ready = lock.withLock({ singleOutcome() }) { return try ready.get() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = lock.withLock {
                    let ready = singleOutcome() != nil
                    if !ready { endWaiter = continuation }
                    return ready
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            self.finish(.failure(RPCError(.cancelled, "the reading task was cancelled")))
            onCancel()
        }
        // Woken by `finish` or a second message: one of them holds now.
        return try lock.withLock { singleOutcome() ?? .failure(RPCError(.internal, "woken without an outcome")) }.get()
    }

    /// Under the lock: what `single` returns, if it can return yet.
    private func singleOutcome() -> Result<Single, RPCError>? {
        if items.count >= 2 { return .success(.several) }
        switch end {
        case nil: return nil
        case .failure(let error): return .failure(error)
        case .success: return .success(items.first.map { .one($0) } ?? .none)
        }
    }

    private func nextItem(onCancel: @escaping @Sendable () -> Void) async throws -> Item? {
        enum Immediate { case item(Item), end(Result<Void, RPCError>), wait }
        let immediate: Immediate = lock.withLock {
            if let item = items.popFirst() { return .item(item) }
            if let end { return .end(end) }
            return .wait
        }
        switch immediate {
        case .item(let item): return item
        case .end(.success): return nil
        case .end(.failure(let error)): throw error
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Immediate = lock.withLock {
                    if let item = items.popFirst() { return .item(item) }
                    if let end { return .end(end) }
                    waiter = continuation
                    return .wait
                }
                switch ready {
                case .item(let item): continuation.resume(returning: item)
                case .end(.success): continuation.resume(returning: nil)
                case .end(.failure(let error)): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            self.finish(.failure(RPCError(.cancelled, "the reading task was cancelled")))
            onCancel()
        }
    }
}
