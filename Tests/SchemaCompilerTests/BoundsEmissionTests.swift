import Foundation
import Testing

@testable import SchemaCompiler

/// Bounds reach the generated `validate()`, the field docs and the request bounds section of the
/// authorization page; messages without bounds at any depth get no `validate()`.
@Suite("Bounds emission")
struct BoundsEmissionTests {
    static let schema = """
        package b.v1;
        roles { admin; }
        enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }
        message Inner {
            string name = 1 [max_length = 10];
        }
        message Outer {
            repeated Inner items = 1 [max_count = 3];
            optional Inner one = 2;
            repeated Kind kinds = 3 [max_count = 2, known_values = true];
            int32 page_size = 4 [range = 0 to 500];
            timestamp start = 5 [range = "2000-01-01" to max];
            optional timestamp end = 6;
            interval start to end [max_days = 7];
        }
        message Plain { int32 n = 1; }
        message Holder { map<string, Inner> by_name = 1; }
        service S {
            area All;
            rpc Get(Outer) returns (Plain) { roles = [admin]; area = All; }
        }
        """

    static func generate() throws -> GeneratedCode {
        try Generator.generate(SchemaSource(path: "Schema/b.msrpc", text: schema))
    }

    @Test("validate() checks counts before elements, nests with paths, and guards the interval's absent end")
    func validate() throws {
        let code = try Self.generate().clientSource
        #expect(code.contains("""
                public func validate() throws(BoundsViolation) {
                    try Bounds.count(self.items.count, max: 3, field: "items")
                    for (index, element) in self.items.enumerated() {
                        try Bounds.nested(element, field: "items[\\(index)]")
                    }
                    if let value = self.one {
                        try Bounds.nested(value, field: "one")
                    }
                    try Bounds.count(self.kinds.count, max: 2, field: "kinds")
                    for (index, element) in self.kinds.enumerated() {
                        try Bounds.knownValue(element, field: "kinds[\\(index)]")
                    }
                    try Bounds.range(self.pageSize, 0, 500, field: "page_size")
                    try Bounds.range(self.start, 946684800000000, Int64.max, spelled: "2000-01-01 to max", field: "start")
                    if self.start != .epoch, let end = self.end {
                        try Bounds.interval(self.start, end, maxDays: 7, startField: "start", endField: "end")
                    }
                }
            """), "\(code)")
        #expect(code.contains("try Bounds.length(self.name, max: 10, field: \"name\")"))
        // A map of bounded messages: validated through the map, with the key in the path.
        #expect(code.contains("try Bounds.nested(element, field: \"by_name[\\(key.prefix(40))]\")"))
        // No bounds at any depth: no validate() (the protocol's no-op applies).
        let plain = try #require(code.range(of: "public struct Plain: Message {"))
        let plainBody = String(code[plain.lowerBound...]).components(separatedBy: "\n}\n")[0]
        #expect(!plainBody.contains("validate"))
    }

    @Test("field docs list the bounds; the message doc the interval")
    func docs() throws {
        let code = try Self.generate().clientSource
        #expect(code.contains("    /// Bounds: at most 3 elements.\n    public var items: [Inner] = []"))
        #expect(code.contains("    /// Bounds: at most 2 elements; each a known value.\n    public var kinds: [Kind] = []"))
        #expect(code.contains("    /// Bounds: 0 to 500.\n    public var pageSize: Int32 = 0"))
        #expect(code.contains("    /// Bounds: from 2000-01-01 to max (UTC).\n    public var start: Timestamp = .epoch"))
        #expect(code.contains("/// Interval: `start` is not after `end`, at most 7 days apart (checked when both are set).\npublic struct Outer: Message {"))
    }

    @Test("the authorization page lists every request message's bounds, nested messages included")
    func page() throws {
        let page = try Generator.authorizationDoc([SchemaSource(path: "Schema/b.msrpc", text: Self.schema)])
        #expect(page.contains("""
            ### `Inner`

            Nested in a request.

            | Field | Type | Bounds |
            |-------|------|--------|
            | `name` | `string` | at most 10 bytes (UTF-8). |
            """))
        #expect(page.contains("| `items` | `repeated Inner` | at most 3 elements. |"))
        #expect(page.contains("Request of `Get`.\n\nInterval: `start` is not after `end`, at most 7 days apart (checked when both are set)."))
        #expect(!page.contains("### `Plain`"))  // a response only
        #expect(!page.contains("### `Holder`"))  // not reachable from a request
    }
}

