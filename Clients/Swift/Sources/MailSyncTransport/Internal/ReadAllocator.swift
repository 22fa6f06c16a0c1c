import NIOCore

/// How large a buffer each socket read gets, on both sides of a connection.
///
/// NIO's default adapts between 64 bytes and 64 KiB. A 64 KiB message is a frame of 64 KiB plus
/// its header, so with reads capped at 64 KiB nearly every such frame straddles two reads, and the
/// partial frame left over is copied into the next read's buffer (`InputAccumulator`). Letting
/// reads grow to 256 KiB when the socket has that much waiting keeps most large frames in one
/// read. The buffer starts at 2 KiB and grows only after reads fill it (and shrinks again), so an
/// idle or chatty connection costs what it did.
enum ReadAllocator {
    static let maximum = 256 * 1024

    static var adaptive: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: maximum)
    }
}
