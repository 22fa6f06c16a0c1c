import Testing

@testable import SchemaCompiler

/// What the generator emits for a service split into areas: one handler protocol per area with
/// exactly its rpcs, defaults only for rpcs marked `not_yet_served`, and `serverMethods(…)` taking
/// one handler per area, each rpc calling the handler of its own area.
@Suite("Areas in generated server code")
struct AreaEmissionTests {
    static let schema = """
        package areas.v1;
        roles { admin; }
        message Thing {}
        service Shop {
            /// Things on the shelves.
            area Shelves;
            area Tills;

            rpc GetThing(Thing) returns (Thing) { area = Shelves; roles = [admin]; }
            rpc Pay(Thing) returns (Thing) { area = Tills; roles = [anyone]; }
            rpc ListThings(Thing) returns (stream Thing) { area = Shelves; roles = [admin]; idempotent = true; }
            rpc Refund(stream Thing) returns (Thing) { area = Tills; roles = [admin]; not_yet_served = true; }
        }
        """

    static func server() throws -> String {
        try Generator.generate(SchemaSource(path: "Schema/areas.msrpc", text: schema)).serverSource
    }

    /// The text between `start` and the first `end` after it.
    static func section(_ text: String, from start: String, to end: String) throws -> String {
        let from = try #require(text.range(of: start), "no '\(start)'")
        let to = try #require(text.range(of: end, range: from.upperBound..<text.endIndex), "no '\(end)' after '\(start)'")
        return String(text[from.lowerBound..<to.upperBound])
    }

    @Test("one protocol per area with exactly the area's rpcs, in schema order")
    func protocols() throws {
        let code = try Self.server()
        let shelves = try Self.section(code, from: "public protocol ShelvesHandler: Sendable {", to: "\n    }\n")
        let tills = try Self.section(code, from: "public protocol TillsHandler: Sendable {", to: "\n    }\n")
        #expect(code.contains("    /// Things on the shelves.\n    ///\n    /// Implements the Shelves area of the Shop service"))
        #expect(Self.requirements(shelves) == [
            "func getThing(_ request: Thing, context: ServerContext) async throws -> Thing",
            "func listThings(_ request: Thing, responses: ResponseWriter<Thing>, context: ServerContext) async throws",
        ])
        #expect(Self.requirements(tills) == [
            "func pay(_ request: Thing, context: ServerContext) async throws -> Thing",
            "func refund(_ requests: RequestStream<Thing>, context: ServerContext) async throws -> Thing",
        ])
        #expect(tills.contains("/// Not served yet: answers `unimplemented` unless the handler implements it.\n        func refund("))
        #expect(!shelves.contains("Not served yet"))
    }

    static func requirements(_ body: String) -> [String] {
        body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("func ") }
    }

    @Test("only the rpc marked not_yet_served gets a default, answering unimplemented")
    func defaults() throws {
        let code = try Self.server()
        #expect(code.contains("""
            extension Shop.TillsHandler {
                /// Not served yet (`not_yet_served` in the schema): answers `unimplemented`.
                public func refund(_ requests: RequestStream<Thing>, context: ServerContext) async throws -> Thing {
                    throw RPCError(.unimplemented, "Shop/Refund is not served yet")
                }
            }
            """))
        #expect(!code.contains("extension Shop.ShelvesHandler {"))
        #expect(code.components(separatedBy: "is not served yet").count == 2)
    }

    @Test("serverMethods takes one handler per area and routes each rpc, in schema order, to its area's handler")
    func methodTable() throws {
        let code = try Self.server()
        #expect(code.contains("""
                public static func serverMethods(
                    shelves shelvesHandler: some ShelvesHandler,
                    tills tillsHandler: some TillsHandler
                ) -> [ServerMethod] {
                    [
                        .unary(Shop.Method.getThing) { (request: Thing, context: ServerContext) -> Thing in
                            try await shelvesHandler.getThing(request, context: context)
                        },
                        .unary(Shop.Method.pay) { (request: Thing, context: ServerContext) -> Thing in
                            try await tillsHandler.pay(request, context: context)
                        },
                        .serverStreaming(Shop.Method.listThings) { (request: Thing, responses: ResponseWriter<Thing>, context: ServerContext) in
                            try await shelvesHandler.listThings(request, responses: responses, context: context)
                        },
                        .clientStreaming(Shop.Method.refund) { (requests: RequestStream<Thing>, context: ServerContext) -> Thing in
                            try await tillsHandler.refund(requests, context: context)
                        },
                    ]
                }
            """))
    }

    @Test("Handler serves every area; UnimplementedHandler answers every rpc unimplemented")
    func wholeHandler() throws {
        let code = try Self.server()
        #expect(code.contains("public protocol Handler: ShelvesHandler, TillsHandler {}"))
        #expect(code.contains("Shop.serverMethods(shelves: self, tills: self)"))
        let unimplemented = try Self.section(code, from: "public struct UnimplementedHandler: Handler {", to: "\n    }\n}\n")
        for name in ["GetThing", "Pay", "ListThings", "Refund"] {
            #expect(unimplemented.contains("throw RPCError(.unimplemented, \"Shop/\(name) is not implemented yet\")"))
        }
    }
}
