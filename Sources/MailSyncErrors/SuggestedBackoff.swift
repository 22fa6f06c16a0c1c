/// Reads a wait the server asked for out of its text.
///
/// Microsoft's IMAP throttling says `Request is throttled. Suggested Backoff Time: 155491
/// milliseconds`. The unit may be milliseconds (`ms`) or seconds (`s`); anything else, a missing
/// number or one with more than 12 digits yields `nil`. The result is clamped by ``Backoff`` to
/// ``Backoff/maximumSuggestion`` when used.
public enum SuggestedBackoff {
    public static func parse(_ text: String) -> Duration? {
        let lower = text.lowercased()
        guard let label = lower.firstRange(of: "suggested backoff time") else { return nil }
        var rest = lower[label.upperBound...].drop { $0 == ":" || $0 == " " }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
        rest = rest.dropFirst(digits.count).drop { $0 == " " }
        let unit = rest.prefix { $0.isLetter }
        switch unit {
        case "milliseconds", "millisecond", "ms": return .milliseconds(value)
        case "seconds", "second", "s", "sec", "secs": return .seconds(value)
        default: return nil
        }
    }
}
