import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// The peer: the same echo over grpc-swift-2 (GRPCCore + the HTTP/2 NIO transport on POSIX), plain
/// text, every setting at its default. Messages are raw bytes (`RawBytes`), not protobuf: the
/// payload goes on the wire as is, so gRPC does no less encoding work than the real thing would
/// (a `bytes` field would add the same 2–4 bytes of tag and length that `BenchMessage` adds).
///
/// In its own file because GRPCCore's names (`MethodDescriptor`, `Metadata`, `RPCError`, …)
/// collide with MailSyncRPC's; the rest of the benchmark sees only `GRPCEcho`.
enum GRPCEcho {
    /// `bench.v1.Bench/Echo`, the same name as our method.
    static let method = GRPCCore.MethodDescriptor(fullyQualifiedService: "bench.v1.Bench", method: "Echo")

    /// Messages as raw bytes: one copy in each direction, as protobuf's serializer makes.
    struct RawBytes: MessageSerializer, MessageDeserializer {
        typealias Message = [UInt8]

        func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }

        func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
            serializedMessageBytes.withUnsafeBytes { Array($0) }
        }
    }

    /// Answers every request with its own message.
    struct Service: RegistrableRPCService {
        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(
                forMethod: GRPCEcho.method, deserializer: RawBytes(), serializer: RawBytes()
            ) { request, _ in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse(single: ServerResponse(message: single.message))
            }
        }
    }

    /// Starts a server on 127.0.0.1 (ephemeral port) and returns the port once it is bound. It
    /// serves until the process exits.
    static func startServer() async throws -> Int {
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [Service()])
        Task { try await server.serve() }
        guard let port = try await transport.listeningAddress.ipv4?.port else {
            throw RuntimeError(code: .transportError, message: "the gRPC server has no IPv4 address")
        }
        return port
    }

    /// One client, which is one HTTP/2 connection (the default pick-first policy on one address).
    final class Client: Sendable {
        private let client: GRPCClient<HTTP2ClientTransport.Posix>
        private let connections: Task<Void, any Error>

        init(port: Int) throws {
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            let client = GRPCClient(transport: transport)
            self.client = client
            connections = Task { try await client.runConnections() }
        }

        /// One unary call; returns the size of the answer.
        func echo(_ payload: [UInt8]) async throws -> Int {
            try await client.unary(
                request: ClientRequest(message: payload), descriptor: GRPCEcho.method,
                serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
            ) { response in try response.message.count }
        }

        func close() async {
            client.beginGracefulShutdown()
            _ = try? await connections.value
        }
    }
}
