import Testing

@testable import SchemaCompiler

/// Each broken schema must produce exactly the listed error first, at the exact position, so a
/// person reading `file:line:col: error: …` lands on the offending token.
@Suite("Broken schemas")
struct BrokenSchemaTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var schema: String
        var position: String
        var fragment: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "duplicate field number",
            schema: "package t.v1;\nmessage A {\n  string a = 1;\n  string b = 1;\n}\n",
            position: "4:14", fragment: "field number 1 is already used by 'a'"),
        Case(
            name: "duplicate field name",
            schema: "package t.v1;\nmessage A {\n  string a = 1;\n  int32 a = 2;\n}\n",
            position: "4:9", fragment: "duplicate field name 'a'"),
        Case(
            name: "field number 0",
            schema: "package t.v1;\nmessage A {\n  string a = 0;\n}\n",
            position: "3:14", fragment: "field number 0 is out of range"),
        Case(
            name: "negative field number",
            schema: "package t.v1;\nmessage A {\n  string a = -3;\n}\n",
            position: "3:14", fragment: "field number -3 is out of range"),
        Case(
            name: "field number above 2^29 - 1",
            schema: "package t.v1;\nmessage A {\n  string a = 536870912;\n}\n",
            position: "3:14", fragment: "use 1 to 536870911"),
        Case(
            name: "reused reserved number",
            schema: "package t.v1;\nmessage A {\n  reserved 4, 9 to 11;\n  string a = 10;\n}\n",
            position: "4:14", fragment: "field number 10 is reserved"),
        Case(
            name: "reused reserved name",
            schema: "package t.v1;\nmessage A {\n  reserved \"old_name\";\n  string old_name = 1;\n}\n",
            position: "4:10", fragment: "field name 'old_name' is reserved"),
        Case(
            name: "unknown type",
            schema: "package t.v1;\nmessage A {\n  Missing a = 1;\n}\n",
            position: "3:3", fragment: "unknown type 'Missing'"),
        Case(
            name: "unknown role",
            schema: "package t.v1;\nroles { admin; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [admin, boss]; area = A; }\n}\n",
            position: "5:44", fragment: "unknown role 'boss'"),
        Case(
            name: "missing roles",
            schema: "package t.v1;\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { area = A; }\n}\n",
            position: "4:7", fragment: "declares no roles: add '{ roles = [role, ...]; }'"),
        Case(
            name: "empty role list",
            schema: "package t.v1;\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = []; area = A; }\n}\n",
            position: "4:28", fragment: "empty role list"),
        Case(
            name: "manage_others role that may not call the rpc",
            schema: "package t.v1;\nroles { operator; admin; member; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [member]; manage_others = [admin]; area = A; }\n}\n",
            position: "5:63", fragment: "role 'admin' in 'manage_others' may not call 'Get': add it to the rpc's 'roles' too"),
        Case(
            name: "unknown role in manage_others",
            schema: "package t.v1;\nroles { operator; admin; member; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [admin, member]; manage_others = [boss]; area = A; }\n}\n",
            position: "5:70", fragment: "unknown role 'boss' in 'manage_others'"),
        Case(
            name: "anyone in manage_others",
            schema: "package t.v1;\nroles { operator; admin; member; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [anyone]; manage_others = [anyone]; area = A; }\n}\n",
            position: "5:63", fragment: "'anyone' cannot be in 'manage_others': a caller without credentials has no identity"),
        Case(
            name: "operator in manage_others",
            schema: "package t.v1;\nroles { operator; admin; member; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [operator, admin]; manage_others = [operator]; area = A; }\n}\n",
            position: "5:72", fragment: "'operator' cannot be in 'manage_others': the platform operator belongs to no company"),
        Case(
            name: "duplicate manage_others option",
            schema: "package t.v1;\nroles { operator; admin; member; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [admin, member]; manage_others = [admin]; manage_others = [admin]; area = A; }\n}\n",
            position: "5:78", fragment: "duplicate option 'manage_others'"),
        Case(
            name: "empty manage_others",
            schema: "package t.v1;\nroles { operator; admin; member; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [admin, member]; manage_others = []; area = A; }\n}\n",
            position: "5:53", fragment: "has an empty 'manage_others' list"),
        Case(
            name: "role listed twice in manage_others",
            schema: "package t.v1;\nroles { operator; admin; member; }\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [admin, member]; manage_others = [admin, admin]; area = A; }\n}\n",
            position: "5:77", fragment: "role 'admin' is listed twice in 'manage_others'"),
        Case(
            name: "duplicate type name",
            schema: "package t.v1;\nmessage A {}\nenum A { A_UNSPECIFIED = 0; }\n",
            position: "3:6", fragment: "duplicate type name 'A'; first declared at 2:9"),
        Case(
            name: "duplicate rpc name",
            schema: "package t.v1;\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [anyone]; area = A; }\n  rpc Get(A) returns (A) { roles = [anyone]; area = A; }\n}\n",
            position: "5:7", fragment: "duplicate rpc name 'Get'"),
        Case(
            name: "message name not UpperCamelCase",
            schema: "package t.v1;\nmessage get_thing {}\n",
            position: "2:9", fragment: "must be UpperCamelCase, for example 'GetThing'"),
        Case(
            name: "field name not lower_snake_case",
            schema: "package t.v1;\nmessage A {\n  string pageSize = 1;\n}\n",
            position: "3:10", fragment: "must be lower_snake_case, for example 'page_size'"),
        Case(
            name: "enum value not UPPER_SNAKE_CASE",
            schema: "package t.v1;\nenum E {\n  E_UNSPECIFIED = 0;\n  Red = 1;\n}\n",
            position: "4:3", fragment: "must be UPPER_SNAKE_CASE"),
        Case(
            name: "invalid map key type",
            schema: "package t.v1;\nmessage A {\n  map<double, string> m = 1;\n}\n",
            position: "3:7", fragment: "invalid map key type 'double'"),
        Case(
            name: "optional map",
            schema: "package t.v1;\nmessage A {\n  optional map<string, string> m = 1;\n}\n",
            position: "3:3", fragment: "a map field cannot be 'optional'"),
        Case(
            name: "repeated map",
            schema: "package t.v1;\nmessage A {\n  repeated map<string, string> m = 1;\n}\n",
            position: "3:3", fragment: "a map field cannot be 'repeated'"),
        Case(
            name: "map of maps",
            schema: "package t.v1;\nmessage A {\n  map<string, map<string, string>> m = 1;\n}\n",
            position: "3:15", fragment: "a map value cannot be a map"),
        Case(
            name: "enum whose first value is not 0",
            schema: "package t.v1;\nenum E {\n  E_RED = 1;\n}\n",
            position: "3:11", fragment: "the first value of enum 'E' must be 0"),
        Case(
            name: "duplicate enum value",
            schema: "package t.v1;\nenum E {\n  E_UNSPECIFIED = 0;\n  E_RED = 1;\n  E_GREEN = 1;\n}\n",
            position: "5:13", fragment: "enum value number 1 is already used by 'E_RED'"),
        Case(
            name: "message containing itself",
            schema: "package t.v1;\nmessage Tree {\n  Tree left = 1;\n}\n",
            position: "3:8", fragment: "message 'Tree' contains itself through field 'left' (Tree → Tree)"),
        Case(
            name: "recursion through an optional field of another message",
            schema: "package t.v1;\nmessage A {\n  B b = 1;\n}\nmessage B {\n  optional A a = 1;\n}\n",
            position: "3:5", fragment: "message 'A' contains itself through field 'b' (A → B → A)"),
        Case(
            name: "missing semicolon",
            schema: "package t.v1;\nmessage A {\n  string a = 1\n  string b = 2;\n}\n",
            position: "4:3", fragment: "expected ';' after the field number, found 'string'"),
        Case(
            name: "missing package",
            schema: "message A {}\n",
            position: "1:1", fragment: "missing package declaration"),
        Case(
            name: "unknown rpc option",
            schema: "package t.v1;\nmessage A {}\nservice S { area A;\n  rpc Get(A) returns (A) { roles = [anyone]; retries = 3; area = A; }\n}\n",
            position: "4:46", fragment: "unknown rpc option 'retries'; expected 'area', 'roles', 'manage_others', 'idempotent' or 'not_yet_served'"),
        Case(
            name: "enum as request type",
            schema: "package t.v1;\nenum E { E_UNSPECIFIED = 0; }\nmessage A {}\nservice S { area A;\n  rpc Get(E) returns (A) { roles = [anyone]; area = A; }\n}\n",
            position: "5:11", fragment: "the request type 'E' must be a message"),
        Case(
            name: "bidirectional streaming",
            schema: "package t.v1;\nmessage A {}\nservice S { area A;\n  rpc Chat(stream A) returns (stream A) { roles = [anyone]; area = A; }\n}\n",
            position: "4:7", fragment: "streams both ways, which is not supported"),
        Case(
            name: "declaring the built-in role",
            schema: "package t.v1;\nroles { anyone; }\n",
            position: "2:9", fragment: "'anyone' is built in"),
        Case(
            name: "type name hiding a runtime type",
            schema: "package t.v1;\nmessage Status {}\n",
            position: "2:9", fragment: "'Status' would hide a Swift or runtime type"),
        Case(
            name: "fields with the same Swift name",
            schema: "package t.v1;\nmessage A {\n  string a_1 = 1;\n  string a1 = 2;\n}\n",
            position: "4:10", fragment: "fields 'a_1' and 'a1' both become 'a1' in Swift"),
        Case(
            name: "unterminated block comment",
            schema: "package t.v1;\n/* never closed\nmessage A {}\n",
            position: "2:1", fragment: "unterminated comment"),
        Case(
            name: "unexpected character",
            schema: "package t.v1;\nmessage A {\n  string a = 1; #\n}\n",
            position: "3:17", fragment: "unexpected character '#'"),
        Case(
            name: "field number missing",
            schema: "package t.v1;\nmessage A {\n  string a = ;\n}\n",
            position: "3:14", fragment: "expected a field number, found ';'"),
        Case(
            name: "top-level garbage",
            schema: "package t.v1;\nmesage A {}\n",
            position: "2:1", fragment: "expected 'message', 'enum', 'service' or 'roles', found 'mesage'"),
    ]

    @Test("reports the error at its exact position", arguments: cases)
    func reports(_ c: Case) throws {
        let diagnostics = Generator.check(SchemaSource(path: "broken.msrpc", text: c.schema)).diagnostics
        let first = try #require(diagnostics.first, "no error reported")
        #expect("\(first.location)" == c.position, "\(diagnostics)")
        #expect(first.message.contains(c.fragment), "\(first.message)")
        #expect(first.description.hasPrefix("broken.msrpc:\(c.position): error: "))
    }

    @Test("every error is collected, not just the first, in file order")
    func collectsAll() {
        let schema = """
            package t.v1;
            message A {
              string a = 1;
              string b = 1;
              Unknown c = 3;
              string d = 4
            }
            enum E { E_RED = 1; }
            service S {
              rpc Get(A) returns (A);
            }
            """
        let diagnostics = Generator.check(SchemaSource(path: "x.msrpc", text: schema)).diagnostics
        // `Get` lacks both its roles and its area: two errors at the same place.
        #expect(diagnostics.map { "\($0.location)" } == ["4:14", "5:3", "7:1", "8:18", "10:7", "10:7"], "\(diagnostics)")
    }

    @Test("generation refuses a broken schema and lists its errors")
    func generateThrows() {
        #expect(throws: SchemaErrors.self) {
            try Generator.generate(SchemaSource(path: "x.msrpc", text: "package t.v1;\nmessage A { B b = 1; }\n"))
        }
    }
}
