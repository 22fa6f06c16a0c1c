import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncService
import SchemaCompiler
import Testing

/// The method table the server registers (`ServiceMethods.make`, built by the generated
/// `MailSync.serverMethods(…)` from one handler group per area) against the schema itself: one
/// method per rpc, in schema order, each under the descriptor the schema declares.
///
/// That every rpc has a handler method with the right types is the compiler's job (a group
/// missing a method of its area's protocol does not build); this checks what it cannot see.
@Suite("Method table")
struct MethodTableTests {
    /// `(full name, kind, roles, idempotent, manage_others)` per rpc of `Schema/mailsync.msrpc`.
    static func declared() throws -> [String] {
        let service = try #require(try SchemaProbe().file.services.first { $0.name == "MailSync" })
        return service.rpcs.map { rpc in
            let kind: MethodDescriptor.Kind = switch (rpc.requestStreams, rpc.responseStreams) {
            case (false, false): .unary
            case (false, true): .serverStreaming
            case (true, false): .clientStreaming
            case (true, true): .bidirectionalStreaming
            }
            return Self.row("mailsync.v1.MailSync/\(rpc.name)", kind, (rpc.roles ?? []).map(\.name), rpc.idempotent,
                            (rpc.manageOthers ?? []).map(\.name))
        }
    }

    static func row(_ name: String, _ kind: MethodDescriptor.Kind, _ roles: [String], _ idempotent: Bool, _ others: [String]) -> String {
        "\(name) \(kind) roles=\(roles) idempotent=\(idempotent) others=\(others)"
    }

    static func rows(_ methods: [ServerMethod]) -> [String] {
        methods.map(\.descriptor).map {
            row($0.fullName, $0.kind, $0.allowedRoles, $0.isIdempotent, $0.othersRoles)
        }
    }

    @Test("a served server's table has exactly one method per schema rpc, in order, with the schema's descriptor")
    func servedTable() async throws {
        let harness = try await ServiceHarness.start()
        let table = harness.server.environment.map { ServiceMethods.make(environment: $0, startedAt: .epoch) }
        await harness.stop()
        let declared = try Self.declared()
        let rows = Self.rows(try #require(table, "the running server has no environment"))
        #expect(declared.contains { $0.hasPrefix("mailsync.v1.MailSync/GetServerInfo unary") })
        #expect(rows == declared)
        #expect(Set(rows).count == rows.count, "a method is registered twice")
    }

    @Test("without an environment the table has the same methods and descriptors")
    func unconfiguredTable() async throws {
        let table = ServiceMethods.make(environment: nil, startedAt: .epoch)
        #expect(Self.rows(table) == (try Self.declared()))
    }
}
