import Foundation

/// When a failed S3 request is tried again, and after how long.
///
/// Retried: no answer at all (refused, reset, timed out: ``S3Transfer/Outcome/connectionFailed``),
/// any 5xx (`500 InternalError`, `503 SlowDown`, …), `429 Too Many Requests`, and a `200` whose
/// body is an S3 `<Error>` with a 5xx-class code (CompleteMultipartUpload can answer that way).
/// Never retried: every other 4xx (bad credentials, missing bucket, bad digest do not heal).
///
/// Delays: exponential backoff with full jitter: before attempt `n + 1`, a random wait in
/// `0...min(20 s, base * 2^(n-1))` (AWS's recommendation: spreads the clients a store's hiccup
/// would otherwise make retry in step). A reply's `Retry-After` in seconds (503 SlowDown, 429)
/// lengthens that wait to what the store asked, never past `maxDelay` (a store cannot park a
/// shipper for longer); its HTTP-date form is ignored. `maxAttempts` counts the first try.
struct S3RetryPolicy: Sendable {
    var maxAttempts: Int
    var baseDelay: Duration
    var maxDelay: Duration = .seconds(20)

    /// The S3 error codes worth another try whatever the status.
    static let retryableCodes: Set<String> = ["InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout", "Throttling"]

    static func isRetryable(status: Int, code: String?) -> Bool {
        if status >= 500 || status == 429 { return true }
        if status == 200, let code { return retryableCodes.contains(code) }
        return false
    }

    /// The wait before attempt `attempt + 1` (`attempt` ≥ 1 just failed); `retryAfter` is the
    /// failed reply's `Retry-After` header, if any.
    func delay(after attempt: Int, retryAfter: String? = nil, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        var bound = baseDelay * (1 << exponent)
        if bound > maxDelay { bound = maxDelay }
        let backoff = bound * max(0, min(1, random))
        guard let text = retryAfter?.trimmingCharacters(in: .whitespaces), text.count <= 9,
              let seconds = Int(text), seconds > 0 else { return backoff }
        return max(backoff, min(maxDelay, .seconds(seconds)))
    }
}
