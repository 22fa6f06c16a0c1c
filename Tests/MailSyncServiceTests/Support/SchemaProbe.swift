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

    /// A request in which every string field named `*_id`, `id` or `state` (at any depth, one
    /// element for repeated messages) holds `ids["Message.field"]`, else `ids[name]`, else
    /// `ids["*"]` (nothing when none of them is given); `*_ids` lists hold it once (looked up by the
    /// singular name); every enum holds its first real value.
    func request(for method: MethodDescriptor, ids: [String: String]) -> [UInt8] {
        var fields: [IDField] = []
        return encode(requestType(of: method), ids: ids, depth: 0, found: &fields)
    }

    /// An id field of a request, as ``request(for:ids:)`` fills it.
    struct IDField: Hashable, CustomStringConvertible {
        /// `Message.field`, e.g. `CreateUserRequest.id`.
        let qualified: String
        /// The name it is looked up by after the qualified one: the field's, singular for `*_ids`.
        let name: String
        var description: String { qualified }
    }

    /// Every id field ``request(for:ids:)`` fills in a method's request, at any depth.
    func idFields(of method: MethodDescriptor) -> [IDField] {
        var fields: [IDField] = []
        _ = encode(requestType(of: method), ids: [:], depth: 0, found: &fields)
        return fields
    }

    private func encode(_ type: String, ids: [String: String], depth: Int, found: inout [IDField]) -> [UInt8] {
        guard let message = messages[type], depth < 4 else { return [] }
        var writer = WireWriter()
        for field in message.fields {
            switch field.type {
            case .scalar(.string, _):
                let base = field.name.hasSuffix("_ids") ? String(field.name.dropLast()) : field.name
                guard base.hasSuffix("_id") || base == "id" || base == "state" else { continue }
                let qualified = "\(type).\(field.name)"
                found.append(IDField(qualified: qualified, name: base))
                if let value = ids[qualified] ?? ids[base] ?? ids["*"] { writer.writeString(value, field: field.number) }
            case .named(let name, _) where enums.contains(name):
                writer.writeInt32(1, field: field.number)
            case .named(let name, _) where messages[name] != nil:
                let nested = encode(name, ids: ids, depth: depth + 1, found: &found)
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
        /// Response bytes decoded leniently as text, with the error's message, details and
        /// trailers, to search for leaked values.
        let text: String
        /// The response messages as received.
        var responses: [[UInt8]] = []
    }

    /// One call with a 5 s deadline (`streamTimeout` for a server stream, which is read until it
    /// ends or that deadline passes).
    static func call(
        _ method: MethodDescriptor, request: [UInt8], transport: TCPClientTransport, key: String?,
        streamTimeout: Duration = .milliseconds(300)
    ) async -> Outcome {
        var options = CallOptions(timeout: .seconds(5))
        if let key { options.metadata.add(Metadata.authorizationKey, key) }
        var responses: [[UInt8]] = []
        do {
            switch method.kind {
            case .unary:
                responses.append(try await transport.unary(method, request: request, options: options))
            default:
                if method.kind == .serverStreaming { options.timeout = streamTimeout }
                let call = try await transport.openCall(method, options: options)
                try await call.send(request)
                try await call.finishSending()
                while let response = try await call.receive() { responses.append(response) }
            }
            return Outcome(code: .ok, message: "", text: text(responses), responses: responses)
        } catch let error as RPCError {
            let trailers = error.trailers.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return Outcome(
                code: error.code, message: error.message,
                text: [text(responses), error.message, text([error.details]), trailers].joined(separator: " "), responses: responses)
        } catch {
            return Outcome(code: .unknown, message: "\(error)", text: "\(error)", responses: responses)
        }
    }

    static func text(_ responses: [[UInt8]]) -> String {
        responses.map { String(decoding: $0.map { $0 < 0x20 ? 0x20 : $0 }, as: UTF8.self) }.joined(separator: " ")
    }
}
