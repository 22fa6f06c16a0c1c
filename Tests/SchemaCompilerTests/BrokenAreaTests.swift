import Testing

@testable import SchemaCompiler

/// Each broken use of areas is reported first, at the offending token, with a message that says
/// what to write instead.
@Suite("Broken areas")
struct BrokenAreaTests {
    typealias Case = BrokenSchemaTests.Case

    /// A one-service schema: `body` goes inside `service S { … }` on line 4.
    static func schema(_ body: String, types: String = "message A {}") -> String {
        "package t.v1;\n\(types)\nroles { admin; }\nservice S {\n\(body)\n}\n"
    }

    static let cases: [Case] = [
        Case(
            name: "rpc without an area",
            schema: schema("  area Main;\n  rpc Put(A) returns (A) { area = Main; roles = [admin]; }\n  rpc Get(A) returns (A) { roles = [admin]; }"),
            position: "7:7", fragment: "rpc 'Get' names no area, so no handler would implement it: add 'area = Name;' naming one of: Main"),
        Case(
            name: "rpc without an area in a service without areas",
            schema: schema("  rpc Get(A) returns (A) { roles = [admin]; }"),
            position: "5:7", fragment: "declare the service's areas with 'area Name;' and add 'area = Name;' to the rpc"),
        Case(
            name: "unknown area",
            schema: schema("  area Main;\n  rpc Put(A) returns (A) { area = Main; roles = [admin]; }\n  rpc Get(A) returns (A) { area = Mian; roles = [admin]; }"),
            position: "7:35", fragment: "unknown area 'Mian'; declare it in service 'S' with 'area Mian;', or use one of: Main"),
        Case(
            name: "duplicate area declaration",
            schema: schema("  area Main;\n  area Main;\n  rpc Get(A) returns (A) { area = Main; roles = [admin]; }"),
            position: "6:8", fragment: "duplicate area 'Main' in service 'S'; first declared at 5:8"),
        Case(
            name: "two areas with the same Swift parameter",
            schema: schema("  area APIKeys;\n  area ApiKeys;\n  rpc Get(A) returns (A) { area = APIKeys; roles = [admin]; }\n  rpc Put(A) returns (A) { area = ApiKeys; roles = [admin]; }"),
            position: "6:8", fragment: "areas 'APIKeys' and 'ApiKeys' both become the parameter 'apiKeys' in Swift"),
        Case(
            name: "area name not UpperCamelCase",
            schema: schema("  area main_area;\n  rpc Get(A) returns (A) { area = main_area; roles = [admin]; }"),
            position: "5:8", fragment: "area name 'main_area' must be UpperCamelCase, for example 'MainArea'"),
        Case(
            name: "area whose protocol hides a schema type",
            schema: schema("  area Main;\n  rpc Get(A) returns (A) { area = Main; roles = [admin]; }", types: "message A {}\nmessage MainHandler {}"),
            position: "6:8", fragment: "area 'Main' becomes the protocol 'S.MainHandler', which would hide the type 'MainHandler'"),
        Case(
            name: "area whose protocol hides a generated type",
            schema: schema("  area Unimplemented;\n  rpc Get(A) returns (A) { area = Unimplemented; roles = [admin]; }"),
            position: "5:8", fragment: "becomes the protocol 'S.UnimplementedHandler'"),
        Case(
            name: "area without rpcs",
            schema: schema("  area Main;\n  area Spare;\n  rpc Get(A) returns (A) { area = Main; roles = [admin]; }"),
            position: "6:8", fragment: "area 'Spare' has no rpcs: name it in an rpc with 'area = Spare;', or remove it"),
        Case(
            name: "two areas on one rpc",
            schema: schema("  area Main;\n  rpc Get(A) returns (A) { area = Main; area = Main; roles = [admin]; }"),
            position: "6:41", fragment: "duplicate option 'area': an rpc belongs to exactly one area"),
        Case(
            name: "area option without a name",
            schema: schema("  area Main;\n  rpc Get(A) returns (A) { area = ; roles = [admin]; }"),
            position: "6:35", fragment: "expected an area name, found ';'"),
        Case(
            name: "area declaration without a semicolon",
            schema: schema("  area Main\n  rpc Get(A) returns (A) { area = Main; roles = [admin]; }"),
            position: "6:3", fragment: "expected ';' after the area name, found 'rpc'"),
        Case(
            name: "not_yet_served that is not a boolean",
            schema: schema("  area Main;\n  rpc Get(A) returns (A) { area = Main; roles = [admin]; not_yet_served = soon; }"),
            position: "6:75", fragment: "expected 'true' or 'false', found 'soon'"),
        Case(
            name: "not_yet_served twice",
            schema: schema("  area Main;\n  rpc Get(A) returns (A) { area = Main; roles = [admin]; not_yet_served = true; not_yet_served = true; }"),
            position: "6:81", fragment: "duplicate option 'not_yet_served'"),
    ]

    /// The error is reported at its exact position. (Not always first: a syntax error inside an
    /// rpc's options also leaves the rpc without its area, reported at the rpc's name.)
    @Test("reports the error at its exact position", arguments: cases)
    func reports(_ c: Case) throws {
        let diagnostics = Generator.check(SchemaSource(path: "broken.msrpc", text: c.schema)).diagnostics
        #expect(diagnostics.contains { "\($0.location)" == c.position && $0.message.contains(c.fragment) }, "\(diagnostics)")
    }

    @Test("a schema using areas and not_yet_served correctly checks clean and records them")
    func accepted() throws {
        let text = Self.schema("  /// The main area.\n  area Main;\n  rpc Get(A) returns (A) { area = Main; roles = [admin]; not_yet_served = true; }\n  rpc Put(A) returns (A) { roles = [admin]; area = Main; not_yet_served = false; }")
        let (file, diagnostics) = Generator.check(SchemaSource(path: "ok.msrpc", text: text))
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let service = try #require(file.services.first)
        #expect(service.areas.map(\.name) == ["Main"])
        #expect(service.areas.first?.doc == ["The main area."])
        #expect(service.rpcs.map(\.area) == ["Main", "Main"])
        #expect(service.rpcs.map(\.notYetServed) == [true, false])
    }
}
