import NIOCore

/// Joins reads into one buffer for the frame decoder without copying bytes twice.
///
/// Decoded frames are slices of this buffer and may outlive it (a message waiting to be read), so
/// appending to a buffer that has handed out slices would copy all of it, consumed bytes included
/// (copy-on-write), on every read. Instead: with nothing left over, the read itself becomes the
/// buffer; with a partial frame left over after earlier frames were cut out, only that tail moves
/// to a fresh buffer; a buffer nothing was cut from yet (one large frame arriving) grows in place.
enum InputAccumulator {
    static func append(_ bytes: inout ByteBuffer, to input: inout ByteBuffer?, allocator: ByteBufferAllocator) {
        guard var existing = input, existing.readableBytes > 0 else {
            input = bytes
            return
        }
        if existing.readerIndex == 0 {
            input = nil  // drop the second reference so the append below does not copy
            existing.writeBuffer(&bytes)
            input = existing
        } else {
            var fresh = allocator.buffer(capacity: existing.readableBytes + bytes.readableBytes)
            fresh.writeBuffer(&existing)
            fresh.writeBuffer(&bytes)
            input = fresh
        }
    }
}
