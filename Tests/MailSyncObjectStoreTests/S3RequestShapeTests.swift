import Foundation
@testable import MailSyncObjectStore
import Testing

/// Pure checks of what the S3 client builds: URLs, queries, configuration checks, retry delays.
@Suite("S3 request shape")
struct S3RequestShapeTests {
    static func configuration(_ endpoint: String, _ addressing: S3Configuration.Addressing) -> S3Configuration {
        S3Configuration(endpoint: endpoint, bucket: "backups", accessKeyID: "K", secretAccessKey: "S", addressing: addressing)
    }

    // Virtual-host addressing cannot be tried against SeaweedFS on loopback (BUCKET.127.0.0.1
    // does not resolve without DNS), so its URLs are checked here.
    @Test("path-style and virtual-host URLs", arguments: [
        ("http://127.0.0.1:9000", S3Configuration.Addressing.path, "http://127.0.0.1:9000/backups/t/a.seg"),
        ("http://s3.example.test:9000/", .virtualHost, "http://backups.s3.example.test:9000/t/a.seg"),
        ("https://s3.eu-west-1.amazonaws.com", .virtualHost, "https://backups.s3.eu-west-1.amazonaws.com/t/a.seg"),
        ("https://minio.internal", .path, "https://minio.internal/backups/t/a.seg"),
    ])
    func urls(endpoint: String, addressing: S3Configuration.Addressing, expected: String) {
        #expect(S3URL(configuration: Self.configuration(endpoint, addressing)).url(key: "t/a.seg") == expected)
    }

    @Test("queries are sorted and encoded as Signature V4 canonicalizes them")
    func canonicalQuery() {
        let url = S3URL(configuration: Self.configuration("http://127.0.0.1:9000", .path))
        #expect(url.url(key: nil, query: [("prefix", "a/b c"), ("list-type", "2"), ("continuation-token", "x+y=/~")])
            == "http://127.0.0.1:9000/backups?continuation-token=x%2By%3D%2F~&list-type=2&prefix=a%2Fb%20c")
        #expect(url.url(key: nil, query: [("delete", "")]) == "http://127.0.0.1:9000/backups?delete=")
        #expect(S3URL(configuration: Self.configuration("http://h:1", .virtualHost)).url(key: nil, query: [("uploads", "")]) == "http://backups.h:1/?uploads=")
    }

    @Test("configurations that cannot work are refused with a reason", arguments: [
        S3Configuration(endpoint: "ftp://h", bucket: "backups", accessKeyID: "K", secretAccessKey: "S"),
        S3Configuration(endpoint: "http://h/path", bucket: "backups", accessKeyID: "K", secretAccessKey: "S"),
        S3Configuration(endpoint: "http://h", bucket: "No_Such", accessKeyID: "K", secretAccessKey: "S"),
        S3Configuration(endpoint: "http://h", bucket: "backups", prefix: "a b/", accessKeyID: "K", secretAccessKey: "S"),
        S3Configuration(endpoint: "http://h", bucket: "backups", accessKeyID: "", secretAccessKey: "S"),
        S3Configuration(endpoint: "http://h", bucket: "backups", accessKeyID: "K", secretAccessKey: "S", partSize: 1024),
        S3Configuration(endpoint: "http://h", bucket: "backups", accessKeyID: "K", secretAccessKey: "S", maxAttempts: 0),
    ])
    func badConfigurations(_ configuration: S3Configuration) {
        #expect(configuration.problem != nil)
        #expect(throws: S3ConfigurationError.self) { try S3ObjectStore(configuration: configuration) }
    }

    @Test("the default configuration is usable and its description hides the secret")
    func defaults() throws {
        let configuration = S3Configuration(endpoint: "https://s3.example.test", bucket: "backups", accessKeyID: "KEYID", secretAccessKey: "hush-hush")
        #expect(configuration.problem == nil)
        #expect(configuration.partSize == 8 * 1024 * 1024 && configuration.maxAttempts == 5 && configuration.addressing == .path)
        #expect(!configuration.description.contains("hush-hush") && configuration.description.contains("KEYID"))
        var dumped = ""
        dump(try S3ObjectStore(configuration: configuration), to: &dumped)
        #expect(!dumped.contains("hush-hush") && dumped.contains("KEYID"))
        #expect(!String(reflecting: configuration).contains("hush-hush"))
    }

    @Test("backoff doubles from the base, is capped, and jitters between zero and the bound")
    func backoff() {
        let policy = S3RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100))
        #expect(policy.delay(after: 1, random: 1) == .milliseconds(100))
        #expect(policy.delay(after: 3, random: 1) == .milliseconds(400))
        #expect(policy.delay(after: 3, random: 0.5) == .milliseconds(200))
        #expect(policy.delay(after: 3, random: 0) == .zero)
        #expect(policy.delay(after: 60, random: 1) == .seconds(20))
        #expect(S3RetryPolicy.isRetryable(status: 503, code: "SlowDown") && S3RetryPolicy.isRetryable(status: 429, code: nil))
        // Retry-After lengthens the wait, capped at maxDelay; junk, dates and absurd values fall back or are capped.
        #expect(policy.delay(after: 1, retryAfter: "3", random: 0) == .seconds(3))
        #expect(policy.delay(after: 1, retryAfter: "999999", random: 0) == policy.maxDelay)
        #expect(policy.delay(after: 1, retryAfter: "99999999999999999999", random: 0) == .zero)
        #expect(policy.delay(after: 1, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT", random: 0) == .zero)
        #expect(policy.delay(after: 1, retryAfter: "-5", random: 1) == .milliseconds(100))
        #expect(!S3RetryPolicy.isRetryable(status: 400, code: "SlowDown") && !S3RetryPolicy.isRetryable(status: 403, code: nil))
        #expect(S3RetryPolicy.isRetryable(status: 200, code: "InternalError") && !S3RetryPolicy.isRetryable(status: 200, code: "AccessDenied"))
    }
}
