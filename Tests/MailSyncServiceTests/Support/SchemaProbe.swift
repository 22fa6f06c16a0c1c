import Foundation
import MailSyncClient
import MailSyncCoding
import SchemaCompiler

/// Builds requests for any RPC of the real schema from its declaration, so tests that must cover
/// "every RPC" cover a new one by themselves.
struct SchemaProbe {
    let file: SchemaFile
    private let messages: [String: MessageDecl]
    private let enums: Set<String>

    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    init() throws {
        let path = Self.repoRoot.appendingPathComponent("Schema/mailsync.msrpc").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let (file, diagnostics) = Generator.check(SchemaSource(path: "Schema/mailsync.msrpc", text: text))
        precondition(diagnostics.isEmpty, "the schema has errors: \(diagnostics)")
        self.file = file
        self.messages = Dictionary(uniqueKeysWithValues: file.messages.map { ($0.name, $0) })
        self.enums = Set(file.enums.map(\.name))
    }

    /// The schema's roles, in order.
    var roles: [String] { file.roles.map(\.name) }

    /// The request message of a method.
    func requestType(of method: MethodDescriptor) -> String {
        file.services.flatMap(\.rpcs).first { $0.name == method.method }!.request
    }

    /// A request in which every string field named `*_id` (at any depth, one element for repeated
    /// messages) holds `ids[name]` (or `ids["*"]`), `*_ids` lists hold it once, and every enum holds
    /// its first real value.
    func request(for method: MethodDescriptor, ids: [String: String]) -> [UInt8] {
        encode(requestType(of: method), ids: ids, depth: 0)
    }

    private func encode(_ type: String, ids: [String: String], depth: Int) -> [UInt8] {
        guard let message = messages[type], depth < 4 else { return [] }
        var writer = WireWriter()
        for field in message.fields {
            switch field.type {
            case .scalar(.string, _):
                let base = field.name.hasSuffix("_ids") ? String(field.name.dropLast()) : field.name
                guard base.hasSuffix("_id") || base == "id" || base == "state" else { continue }
                if let value = ids[base] ?? ids["*"] { writer.writeString(value, field: field.number) }
            case .named(let name, _) where enums.contains(name):
                writer.writeInt32(1, field: field.number)
            case .named(let name, _) where messages[name] != nil:
                let nested = encode(name, ids: ids, depth: depth + 1)
                writer.writeTag(field: field.number, wireType: .lengthDelimited)
                writer.writeVarint(UInt64(nested.count))
                writer.writeRawBytes(nested)
            default:
                continue
            }
        }
        return writer.bytes
    }
}

/// Calls any method with raw request bytes and returns what came back, as text to search.
enum RawCall {
    struct Outcome {
        let code: StatusCode
        let message: String
        /// Response bytes decoded leniently as text, to search for leaked values.
        let text: String
    }

    static func call(_ method: MethodDescriptor, request: [UInt8], transport: TCPClientTransport, key: String?) async -> Outcome {
        var options = CallOptions(timeout: .seconds(5))
        if let key { options.metadata.add(Metadata.authorizationKey, key) }
        var responses: [[UInt8]] = []
        do {
            switch method.kind {
            case .unary:
                responses.append(try await transport.unary(method, request: request, options: options))
            default:
                if method.kind == .serverStreaming { options.timeout = .milliseconds(300) }
                let call = try await transport.openCall(method, options: options)
                try await call.send(request)
                try await call.finishSending()
                while let response = try await call.receive() { responses.append(response) }
            }
            return Outcome(code: .ok, message: "", text: text(responses))
        } catch let error as RPCError {
            return Outcome(code: error.code, message: error.message, text: text(responses) + " " + error.message)
        } catch {
            return Outcome(code: .unknown, message: "\(error)", text: "\(error)")
        }
    }

    static func text(_ responses: [[UInt8]]) -> String {
        responses.map { String(decoding: $0.map { $0 < 0x20 ? 0x20 : $0 }, as: UTF8.self) }.joined(separator: " ")
    }
}
