import Testing

@testable import SchemaCompiler

/// Malformed field bounds and intervals: each must be reported at the offending option or value,
/// with a message saying what applies where.
@Suite("Broken bounds")
struct BrokenBoundsTests {
    static func message(_ body: String) -> String { "package t.v1;\nmessage A {\n\(body)\n}\n" }

    static let cases: [BrokenSchemaTests.Case] = [
        .init(name: "max_length on an int", schema: message("  int32 a = 1 [max_length = 5];"),
              position: "3:16", fragment: "'max_length' applies to string and bytes fields"),
        .init(name: "max_length on a repeated message", schema: message("  repeated A a = 1 [max_length = 3];"),
              position: "3:21", fragment: "'max_length' applies to string and bytes fields"),
        .init(name: "range low above high", schema: message("  int32 a = 1 [range = 5 to 1];"),
              position: "3:24", fragment: "range 5 to 1 is empty"),
        .init(name: "unknown option", schema: message("  string a = 1 [maxlen = 5];"),
              position: "3:17", fragment: "unknown field option 'maxlen'; expected one of: max_length"),
        .init(name: "max_count on a singular field", schema: message("  string a = 1 [max_count = 5];"),
              position: "3:17", fragment: "'max_count' applies to repeated and map fields"),
        .init(name: "range on a string", schema: message("  string a = 1 [range = 0 to 5];"),
              position: "3:17", fragment: "'range' applies to int32, int64, uint32, uint64 and timestamp fields"),
        .init(name: "range end beyond int32", schema: message("  int32 a = 1 [range = 0 to 3000000000];"),
              position: "3:24", fragment: "range end 3000000000 does not fit in int32"),
        .init(name: "negative range on uint32", schema: message("  uint32 a = 1 [range = -1 to 5];"),
              position: "3:25", fragment: "range end -1 does not fit in uint32"),
        .init(name: "impossible date", schema: message("  timestamp t = 1 [range = \"2020-02-30\" to max];"),
              position: "3:28", fragment: "invalid time \"2020-02-30\""),
        .init(name: "number bounding a timestamp", schema: message("  timestamp t = 1 [range = 0 to max];"),
              position: "3:28", fragment: "a timestamp range takes quoted UTC times"),
        .init(name: "time bounding an int", schema: message("  int64 t = 1 [range = \"2020-01-01\" to max];"),
              position: "3:24", fragment: "a quoted time can only bound a timestamp field"),
        .init(name: "negative max_length", schema: message("  string a = 1 [max_length = -1];"),
              position: "3:30", fragment: "'max_length' must be 0 to 2147483647, got -1"),
        .init(name: "max_length as a range", schema: message("  string a = 1 [max_length = 1 to 2];"),
              position: "3:30", fragment: "'max_length' takes a whole number"),
        .init(name: "range as one number", schema: message("  int32 a = 1 [range = 5];"),
              position: "3:24", fragment: "'range' takes 'low to high'"),
        .init(name: "duplicate option", schema: message("  string a = 1 [max_length = 1, max_length = 2];"),
              position: "3:33", fragment: "duplicate option 'max_length' on field 'a'"),
        .init(name: "known_values on a string", schema: message("  string a = 1 [known_values = true];"),
              position: "3:17", fragment: "'known_values' applies to enum fields"),
        .init(name: "max_key_length on an int-keyed map", schema: message("  map<int32, string> m = 1 [max_key_length = 4];"),
              position: "3:29", fragment: "'max_key_length' applies to maps with string keys"),
        .init(name: "missing closing bracket", schema: message("  string a = 1 [max_length = 5;"),
              position: "3:31", fragment: "expected ']' after the field options, found ';'"),
        .init(name: "interval over a string", schema: message("  timestamp a = 1;\n  string b = 2;\n  interval a to b;"),
              position: "5:17", fragment: "interval field 'b' must be a singular or optional timestamp, not string"),
        .init(name: "interval naming a missing field", schema: message("  timestamp a = 1;\n  interval a to c;"),
              position: "4:17", fragment: "interval field 'c' is not a field of message 'A'"),
        .init(name: "interval of zero days", schema: message("  timestamp a = 1;\n  timestamp b = 2;\n  interval a to b [max_days = 0];"),
              position: "5:31", fragment: "'max_days' takes a whole number of days from 1"),
        .init(name: "interval from a field to itself", schema: message("  timestamp a = 1;\n  interval a to a;"),
              position: "4:17", fragment: "an interval needs two different fields"),
        .init(name: "unknown interval option", schema: message("  timestamp a = 1;\n  timestamp b = 2;\n  interval a to b [max_hours = 3];"),
              position: "5:20", fragment: "unknown interval option 'max_hours'; expected 'max_days'"),
    ]

    @Test("reports the error at its exact position", arguments: cases)
    func reports(_ c: BrokenSchemaTests.Case) throws {
        let diagnostics = Generator.check(SchemaSource(path: "broken.msrpc", text: c.schema)).diagnostics
        let first = try #require(diagnostics.first, "no error reported")
        #expect("\(first.location)" == c.position, "\(diagnostics)")
        #expect(first.message.contains(c.fragment), "\(first.message)")
    }

    @Test("times: dates are midnight UTC (the day's last microsecond when they end a range); times to the microsecond")
    func times() {
        #expect(FieldBounds.microseconds("1970-01-01", endOfRange: false) == 0)
        #expect(FieldBounds.microseconds("1970-01-01", endOfRange: true) == 86_399_999_999)
        #expect(FieldBounds.microseconds("9999-12-31", endOfRange: true) == 253_402_300_799_999_999)
        #expect(FieldBounds.microseconds("2000-02-29T12:00:01.5Z", endOfRange: false) == 951_825_601_500_000)
        #expect(FieldBounds.microseconds("1969-12-31T23:59:59.999999Z", endOfRange: false) == -1)
        for bad in ["2001-02-29", "2000-13-01", "0000-01-01", "2000-01-01T24:00:00Z", "2000-01-01T00:00:00", "2000-01-01T00:00:00.1234567Z", "20000-01-01", "2000-1-01"] {
            #expect(FieldBounds.microseconds(bad, endOfRange: false) == nil, "\(bad)")
        }
    }
}
