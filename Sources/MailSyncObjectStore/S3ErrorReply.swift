import Foundation

/// An S3 error document (`<Error><Code>NoSuchBucket</Code><Message>…</Message></Error>`) and
/// what it means for the caller, as an ``ObjectStoreError``.
///
/// Mapping: 401/403 (or the codes `AccessDenied`, `InvalidAccessKeyId`, `SignatureDoesNotMatch`
/// under any status) → ``ObjectStoreError/accessDenied(_:)``; `NoSuchBucket` →
/// ``ObjectStoreError/missingBucket(_:)``; `BadDigest` and `XAmzContentSHA256Mismatch` (the
/// store received other bytes than we sent) → ``ObjectStoreError/corrupt(_:)``; anything else
/// (5xx after the retries, other 4xx) → ``ObjectStoreError/unavailable(_:)`` naming the status,
/// the code and the store's message. Texts hold the endpoint's host, the bucket and the key, never
/// credentials; the store's message is cut to 200 characters.
struct S3ErrorReply: Sendable, Equatable {
    var code: String?
    var message: String?

    /// Reads an error document; nil fields when the body is not one (a proxy's HTML page, nothing).
    init(body: Data) {
        guard !body.isEmpty, let xml = try? S3XML.parse(body), xml.name == "Error" else { return }
        code = xml.child("Code")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        message = xml.child("Message")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    init(code: String?, message: String?) {
        self.code = code
        self.message = message
    }

    func error(status: Int, operation: String, place: String) -> ObjectStoreError {
        let summary = "\(operation) \(place): HTTP \(status)" + (code.map { " \(Self.printable($0, 64))" } ?? "")
            + (message.map { " (\(Self.printable($0, 200)))" } ?? "")
        // A DeleteObjects or CompleteMultipartUpload answer can carry these codes under a 200.
        if status == 401 || status == 403 || ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"].contains(code ?? "") {
            return .accessDenied(summary)
        }
        switch code {
        case "NoSuchBucket": return .missingBucket(summary)
        case "BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest": return .corrupt("the store received other bytes than sent: " + summary)
        default: return .unavailable(status >= 500 || status == 429 ? summary : "the store refused the request: " + summary)
        }
    }

    /// `text` without control characters, cut to `length` characters.
    static func printable(_ text: String, _ length: Int = 200) -> String {
        let cleaned = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(length).map(Character.init))
        return text.unicodeScalars.count > length ? cleaned + "…" : cleaned
    }
}
