import MailSyncWire
import NIOCore

/// An encoded message ready for MESSAGE frames: its bytes, zlib-compressed when it is at least
/// `threshold` bytes long (never when `threshold` is nil).
struct OutboundBody {
    let bytes: ByteBuffer
    let compressed: Bool

    init(_ message: [UInt8], compressionThreshold threshold: Int?) {
        let plain = ByteBufferAllocator().buffer(bytes: message)
        compressed = threshold.map { message.count >= $0 } ?? false
        bytes = compressed ? Compression.compress(plain, allocator: ByteBufferAllocator()) : plain
    }
}
