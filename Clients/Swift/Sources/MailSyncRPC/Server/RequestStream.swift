public import MailSyncCoding

/// The requests of a client-streaming call, as an `AsyncSequence` for the handler.
///
/// Iteration ends when the client finishes sending. A request that cannot be decoded throws
/// `RPCError(.invalidArgument)` naming the field.
public struct RequestStream<Request: Message>: AsyncSequence, Sendable {
    public typealias Element = Request
    let stream: any ServerCallStream
    let limits: DecodingLimits

    public init(stream: any ServerCallStream, limits: DecodingLimits) {
        self.stream = stream
        self.limits = limits
    }

    public func makeAsyncIterator() -> Iterator { Iterator(stream: stream, limits: limits) }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: any ServerCallStream
        let limits: DecodingLimits

        public mutating func next() async throws -> Request? {
            guard let bytes = try await stream.receive() else { return nil }
            return try decodeRequest(bytes, limits: limits)
        }
    }
}

/// Decodes a request and checks the bounds its schema declares (`Message.validate()`), so no
/// handler sees a request outside them: either failure is `invalid argument` naming the field.
func decodeRequest<Request: Message>(_ bytes: [UInt8], limits: DecodingLimits) throws -> Request {
    let request: Request
    do {
        request = try Request(serializedBytes: bytes, limits: limits)
    } catch let error as DecodingError {
        throw RPCError(.invalidArgument, "the request could not be decoded: \(error)")
    }
    do {
        try request.validate()
    } catch {
        throw RPCError(.invalidArgument, "\(error)")
    }
    return request
}
