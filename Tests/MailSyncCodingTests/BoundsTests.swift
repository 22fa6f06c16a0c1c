import MailSyncCoding
import Testing
import TestSupport

/// The generated `validate()` of `Bounded` / `BoundedHolder` (Tests/TestSupport/Schema/test.msrpc):
/// every kind of bound accepts its limit and refuses one past it, naming the path and the bound.
@Suite("Generated validate()")
struct BoundsTests {
    static func violation(_ message: some Message) -> String? {
        do {
            try message.validate()
            return nil
        } catch {
            return error.description
        }
    }

    static func day(_ text: String) -> Timestamp {
        let days: [String: Int64] = ["2000-01-01": 10_957, "2000-12-31": 11_322, "2001-01-01": 11_323]
        return Timestamp(microsecondsSinceEpoch: days[text]! * 86_400_000_000)
    }

    @Test("a message at every limit passes; defaults pass")
    func atTheLimits() {
        #expect(Self.violation(Bounded()) == nil)
        var b = Bounded()
        b.name = "éabc"  // 5 UTF-8 bytes
        b.data = [1, 2, 3]
        b.numbers = [-1, 10, 0]
        b.labels = ["abc": "wxyz", "k": ""]
        b.big = .max
        b.since = Self.day("2000-12-31").advanced(byMicroseconds: 86_399_999_999)
        b.color = .green
        b.children = Array(repeating: Bounded(), count: 4)
        b.start = Self.day("2000-01-01")
        b.end = Self.day("2000-01-01").advanced(byMicroseconds: 2 * 86_400_000_000)
        b.tags = ["ab", "", "é"]
        #expect(Self.violation(b) == nil)
        #expect(Self.violation(Nested()) == nil)
    }

    @Test("one past each limit is refused, naming the field and the bound", arguments: [
        "name", "data", "numbers count", "numbers element", "labels count", "labels key", "labels value", "since low",
        "since high", "color", "children count", "interval order", "interval length", "tags",
    ])
    func pastTheLimit(_ which: String) {
        var message = Bounded()
        let want: String
        switch which {
        case "name": message.name = "éabcd"; want = "name has 6 bytes (UTF-8); at most 5"
        case "data": message.data = [1, 2, 3, 4]; want = "data has 4 bytes; at most 3"
        case "numbers count": message.numbers = [1, 2, 3, 4]; want = "numbers has 4 elements; at most 3"
        case "numbers element": message.numbers = [0, 11]; want = "numbers[1] is 11; must be -1 to 10"
        case "labels count": message.labels = ["a": "", "b": "", "c": ""]; want = "labels has 3 elements; at most 2"
        case "labels key": message.labels = ["abcd": ""]; want = "labels key has 4 bytes (UTF-8); at most 3"
        case "labels value": message.labels = ["k": "vwxyz"]; want = "labels[k] has 5 bytes (UTF-8); at most 4"
        case "since low": message.since = Self.day("2000-01-01").advanced(byMicroseconds: -1); want = "since is 946684799999999 µs since the epoch; must be from 2000-01-01 to 2000-12-31"
        case "since high": message.since = Self.day("2001-01-01"); want = "since is 978307200000000 µs since the epoch; must be from"
        case "color": message.color = Color(rawValue: 7); want = "color is 7, which is not a value of Color"
        case "children count": message.children = Array(repeating: Bounded(), count: 5); want = "children has 5 elements; at most 4"
        case "interval order":
            message.start = Self.day("2000-01-01")
            message.end = Self.day("2000-01-01").advanced(byMicroseconds: -1)
            want = "start is after end"
        case "interval length":
            message.start = Self.day("2000-01-01")
            message.end = Self.day("2000-01-01").advanced(byMicroseconds: 2 * 86_400_000_000 + 1)
            want = "start to end spans more than 2 days; at most 2"
        default: message.tags = ["ok", "abc"]; want = "tags[1] has 3 bytes (UTF-8); at most 2"
        }
        let found = Self.violation(message)
        #expect(found?.hasPrefix(want) == true, "\(found ?? "no violation")")
    }

    @Test("nested messages are validated at every depth, with the path")
    func nested() {
        var deep = Bounded()
        deep.children = [Bounded(), Bounded()]
        deep.children[1].children = [Bounded()]
        deep.children[1].children[0].name = "toolong"
        #expect(Self.violation(deep) == "children[1].children[0].name has 7 bytes (UTF-8); at most 5")

        var holder = BoundedHolder()
        #expect(Self.violation(holder) == nil)
        holder.items = [Bounded(), deep]
        #expect(Self.violation(holder) == "items[1].children[1].children[0].name has 7 bytes (UTF-8); at most 5")
        holder.items = []
        var bad = Bounded()
        bad.data = [0, 0, 0, 0]
        holder.byNumber = [-3: bad]
        #expect(Self.violation(holder) == "by_number[-3].data has 4 bytes; at most 3")
        holder.byNumber = [:]
        holder.one = bad
        #expect(Self.violation(holder) == "one.data has 4 bytes; at most 3")
    }

    @Test("an interval with an absent end is not checked; extreme values never trap")
    func intervalEdges() {
        var message = Bounded()
        message.start = Timestamp(microsecondsSinceEpoch: .max)
        #expect(Self.violation(message) == nil)
        for (start, end) in [(Int64.min, Int64.max), (-1, .max), (.min, 1), (.min, .max - 1), (1, .max)] {
            message.start = Timestamp(microsecondsSinceEpoch: start)
            message.end = Timestamp(microsecondsSinceEpoch: end)
            #expect(Self.violation(message)?.hasPrefix("start to end spans more than 2 days") == true, "\(start) \(end)")
        }
        message.start = Timestamp(microsecondsSinceEpoch: .max)
        message.end = Timestamp(microsecondsSinceEpoch: .min)
        #expect(Self.violation(message)?.hasPrefix("start is after end") == true)
    }

    @Test("validation is O(1) per element: a million elements are refused by their count at once")
    func countFirst() {
        var message = Bounded()
        message.numbers = Array(repeating: 999, count: 1_000_000)
        #expect(Self.violation(message) == "numbers has 1000000 elements; at most 3")
    }
}

extension Timestamp {
    func advanced(byMicroseconds delta: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: microsecondsSinceEpoch + delta)
    }
}
