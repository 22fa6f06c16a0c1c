public import MailSyncCoding

/// One RPC as the server runs it: its descriptor and a function from a raw call to its completion.
/// Generated code builds these from a service's handler.
public struct ServerMethod: Sendable {
    public let descriptor: MethodDescriptor
    let run: @Sendable (any ServerCallStream, ServerContext, DecodingLimits) async throws -> Void

    public init(
        descriptor: MethodDescriptor,
        run: @escaping @Sendable (any ServerCallStream, ServerContext, DecodingLimits) async throws -> Void
    ) {
        self.descriptor = descriptor
        self.run = run
    }

    public static func unary<Request: Message, Response: Message>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) -> ServerMethod {
        ServerMethod(descriptor: descriptor) { stream, context, limits in
            let request: Request = try await receiveSingle(stream, method: descriptor, limits: limits)
            let response = try await body(request, context)
            try await stream.send(response.serializedBytes())
        }
    }

    public static func serverStreaming<Request: Message, Response: Message>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (Request, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) -> ServerMethod {
        ServerMethod(descriptor: descriptor) { stream, context, limits in
            let request: Request = try await receiveSingle(stream, method: descriptor, limits: limits)
            try await body(request, ResponseWriter(stream: stream), context)
        }
    }

    public static func clientStreaming<Request: Message, Response: Message>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
    ) -> ServerMethod {
        ServerMethod(descriptor: descriptor) { stream, context, limits in
            let response = try await body(RequestStream(stream: stream, limits: limits), context)
            try await stream.send(response.serializedBytes())
        }
    }
}

/// Reads exactly one request: none, or a second one, is a client error.
func receiveSingle<Request: Message>(
    _ stream: any ServerCallStream, method: MethodDescriptor, limits: DecodingLimits
) async throws -> Request {
    guard let bytes = try await stream.receive() else {
        throw RPCError(.invalidArgument, "\(method) takes one request message; the client sent none")
    }
    let request: Request = try decodeRequest(bytes, limits: limits)
    if try await stream.receive() != nil {
        throw RPCError(.invalidArgument, "\(method) takes one request message; the client sent more")
    }
    return request
}
