public import MailSyncCoding

/// Typed calls over a `ClientTransport`. Generated stubs hold one and call these methods.
public struct RPCClient: Sendable {
    public let transport: any ClientTransport
    /// Options merged under every call's own (the call's metadata is appended to these).
    public var defaultOptions: CallOptions

    public init(transport: any ClientTransport, defaultOptions: CallOptions = .defaults) {
        self.transport = transport
        self.defaultOptions = defaultOptions
    }

    func merged(_ options: CallOptions) -> CallOptions {
        var result = options
        if result.timeout == nil { result.timeout = defaultOptions.timeout }
        if result.compressionThreshold == nil { result.compressionThreshold = defaultOptions.compressionThreshold }
        var metadata = defaultOptions.metadata
        for (key, value) in options.metadata { metadata.add(key, value) }
        result.metadata = metadata
        return result
    }

    /// One request, one response.
    public func unary<Request: Message, Response: Message>(
        _ method: MethodDescriptor, _ request: Request, options: CallOptions = .defaults
    ) async throws -> Response {
        let bytes = try await transport.unary(method, request: request.serializedBytes(), options: merged(options))
        return try decodeResponse(bytes, method: method)
    }

    /// One request, a stream of responses. The call starts at once; iterate the stream to read.
    /// Credit for more responses is given as the stream is read, so a slow reader slows the server
    /// instead of growing a buffer. Dropping the stream before its end cancels the call.
    public func serverStreaming<Request: Message, Response: Message>(
        _ method: MethodDescriptor, _ request: Request, options: CallOptions = .defaults
    ) async throws -> ResponseStream<Response> {
        let call = try await transport.openCall(method, options: merged(options))
        do {
            try await call.send(request.serializedBytes())
            try await call.finishSending()
        } catch {
            call.cancel()
            throw error
        }
        return ResponseStream(call: call, method: method)
    }

    /// A stream of requests, written by `body`, then one response.
    ///
    /// If `body` throws, the call is cancelled and the error is rethrown.
    public func clientStreaming<Request: Message, Response: Message>(
        _ method: MethodDescriptor, options: CallOptions = .defaults,
        _ body: (RequestWriter<Request>) async throws -> Void
    ) async throws -> Response {
        let call = try await transport.openCall(method, options: merged(options))
        do {
            try await body(RequestWriter(call: call))
            try await call.finishSending()
            guard let bytes = try await call.receive() else {
                throw RPCError(.internal, "the server ended \(method) without a response")
            }
            let response: Response = try decodeResponse(bytes, method: method)
            _ = try await call.receive()
            return response
        } catch {
            call.cancel()
            throw error
        }
    }
}

func decodeResponse<Response: Message>(_ bytes: [UInt8], method: MethodDescriptor) throws -> Response {
    do {
        return try Response(serializedBytes: bytes)
    } catch let error as DecodingError {
        throw RPCError(.internal, "the response to \(method) could not be decoded: \(error)")
    }
}
