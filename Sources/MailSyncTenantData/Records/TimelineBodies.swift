import MailSyncWire
import NIOCore

/// Stored message bodies: zlib (RFC 1950) of the UTF-8 text, as `MailSyncWire.Compression` writes.
package enum TimelineBodies {
    /// The largest body returned; a longer one is not shown (and logged), so one message cannot
    /// exceed a response's size limit.
    package static let maxBodyBytes = 1 << 20

    /// Compresses a body for `messages.body_zlib`.
    package static func compress(_ text: String) -> [UInt8] {
        let allocator = ByteBufferAllocator()
        let compressed = Compression.compress(allocator.buffer(string: text), allocator: allocator)
        return Array(compressed.readableBytesView)
    }

    /// The body's text, or why it cannot be shown (too large, or not a valid zlib stream).
    package static func decompress(_ stored: [UInt8]) -> Result<String, Compression.Failure> {
        let allocator = ByteBufferAllocator()
        return Compression.decompress(allocator.buffer(bytes: stored), limit: maxBodyBytes, allocator: allocator)
            .map { String(decoding: $0.readableBytesView, as: UTF8.self) }
    }
}

extension TimelineBodies {
    /// Compresses raw bytes (a message as the server sent it) for `messages.raw_zlib`.
    package static func compress(bytes: [UInt8]) -> [UInt8] {
        let allocator = ByteBufferAllocator()
        let compressed = Compression.compress(allocator.buffer(bytes: bytes), allocator: allocator)
        return Array(compressed.readableBytesView)
    }
}
