import MailSyncMatching
import MailSyncWire
import NIOCore

/// Stored message bodies: zlib (RFC 1950), as `MailSyncWire.Compression` writes.
///
/// `messages.raw_zlib` holds the message as the server sent it. `messages.body_zlib` holds its
/// readable text only when the raw message is larger than ``textDerivedUpTo``; for smaller ones
/// (nearly all mail) the text is extracted from the raw message when read (``text(_:)``), so the
/// sync compresses each recorded mail once. Rows written before (text and raw both stored) and
/// rows with text only read as they did.
package enum TimelineBodies {
    /// The largest body returned; a longer one is not shown (and logged), so one message cannot
    /// exceed a response's size limit.
    package static let maxBodyBytes = 1 << 20

    /// The largest raw message (bytes) whose text is not stored but extracted when read: 256 KiB.
    /// Larger messages (attachments) keep their text, so a timeline read never inflates more than
    /// this per entry to show it.
    package static let textDerivedUpTo = 256 << 10

    /// What a timeline read found for a message.
    package enum Stored: Sendable, Hashable {
        /// `body_zlib`: the text, compressed.
        case text([UInt8])
        /// `raw_zlib` of a message without stored text: the text is extracted from it.
        case raw([UInt8])
    }

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

    /// The readable text of what was stored, or why it cannot be shown: a raw message inflating
    /// past ``textDerivedUpTo`` (it should have had its text stored), text longer than
    /// ``maxBodyBytes``, or not a valid zlib stream.
    package static func text(_ stored: Stored) -> Result<String, Compression.Failure> {
        switch stored {
        case .text(let zlib):
            return decompress(zlib)
        case .raw(let zlib):
            let allocator = ByteBufferAllocator()
            return Compression.decompress(allocator.buffer(bytes: zlib), limit: textDerivedUpTo, allocator: allocator)
                .flatMap { raw in
                    let text = MailBodyText.extract(Array(raw.readableBytesView))
                    return text.utf8.count > maxBodyBytes ? .failure(.tooLarge(limit: maxBodyBytes)) : .success(text)
                }
        }
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
