import CZlib
public import NIOCore

/// zlib (RFC 1950) compression of whole messages, with a bound on what decompression may produce.
public enum Compression {
    /// Compresses at level 1 (fast; these are small RPC messages).
    public static func compress(_ input: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var stream = z_stream()
        precondition(czlib_deflateInit(&stream, 1) == Z_OK, "zlib deflateInit failed")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.readableBytes)))
        var output = allocator.buffer(capacity: bound)
        _ = input.withUnsafeReadableBytes { inPtr in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { outPtr in
                stream.next_in = UnsafeMutablePointer(mutating: inPtr.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(inPtr.count)
                stream.next_out = outPtr.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(outPtr.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "zlib deflate did not finish within deflateBound")
                return outPtr.count - Int(stream.avail_out)
            }
        }
        return output
    }

    /// Why decompression failed.
    public enum Failure: Error, Sendable, Hashable {
        /// The output would exceed the limit (a zlib bomb, or simply too large).
        case tooLarge(limit: Int)
        /// The input is not a valid, complete zlib stream.
        case corrupt(String)
    }

    /// Decompresses, stopping as soon as the output would pass `limit` bytes.
    public static func decompress(
        _ input: ByteBuffer, limit: Int, allocator: ByteBufferAllocator
    ) -> Result<ByteBuffer, Failure> {
        var stream = z_stream()
        guard czlib_inflateInit(&stream) == Z_OK else { return .failure(.corrupt("zlib inflateInit failed")) }
        defer { inflateEnd(&stream) }
        var output = allocator.buffer(capacity: min(limit, max(256, input.readableBytes * 4)))
        return input.withUnsafeReadableBytes { inPtr -> Result<ByteBuffer, Failure> in
            stream.next_in = UnsafeMutablePointer(mutating: inPtr.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(inPtr.count)
            while true {
                if output.readableBytes >= limit {
                    // Full: one more byte of output means the message is over the limit.
                    var probe: UInt8 = 0
                    let result = withUnsafeMutablePointer(to: &probe) { p -> Int32 in
                        stream.next_out = p
                        stream.avail_out = 1
                        return inflate(&stream, Z_NO_FLUSH)
                    }
                    if stream.avail_out == 0 { return .failure(.tooLarge(limit: limit)) }
                    switch result {
                    case Z_STREAM_END:
                        return stream.avail_in == 0
                            ? .success(output) : .failure(.corrupt("bytes follow the end of the zlib stream"))
                    case Z_OK, Z_BUF_ERROR:
                        return .failure(.corrupt("the zlib stream is truncated"))
                    default:
                        let text = stream.msg.map { String(cString: $0) } ?? "error \(result)"
                        return .failure(.corrupt("the zlib stream is invalid: \(text)"))
                    }
                }
                let room = min(limit - output.readableBytes, 64 * 1024)
                var result: Int32 = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { outPtr in
                    stream.next_out = outPtr.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(room)
                    result = inflate(&stream, Z_NO_FLUSH)
                    return room - Int(stream.avail_out)
                }
                switch result {
                case Z_STREAM_END:
                    guard stream.avail_in == 0 else { return .failure(.corrupt("bytes follow the end of the zlib stream")) }
                    return .success(output)
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 { return .failure(.corrupt("the zlib stream is truncated")) }
                    continue
                default:
                    let text = stream.msg.map { String(cString: $0) } ?? "error \(result)"
                    return .failure(.corrupt("the zlib stream is invalid: \(text)"))
                }
            }
        }
    }
}
