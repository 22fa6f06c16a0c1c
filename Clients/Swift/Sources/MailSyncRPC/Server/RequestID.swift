/// A call's request id: the client's when it sent a sane one, else one the server makes up.
///
/// The client's id is read from `request-id` (the protocol's key) or, failing that, `x-request-id`
/// (what HTTP proxies and tracing tools send). It is *sane* when it has 1–128 characters, all ASCII
/// letters, digits or `- _ . : / + = @`: anything else (spaces, quotes, newlines, control
/// characters, a very long value) could forge or bloat log lines, so it is ignored and the
/// server's own id is used instead. Never fails.
public enum RequestID {
    /// Longest client id accepted. 128.
    public static let maxLength = 128
    /// The metadata keys read, in order.
    public static let metadataKeys = [Metadata.requestIDKey, "x-request-id"]

    /// The first sane client id among ``metadataKeys``, else `fallback()`.
    public static func resolve(_ metadata: Metadata, fallback: () -> String) -> String {
        for key in metadataKeys {
            if let value = metadata[key], isSane(value) { return value }
        }
        return fallback()
    }

    /// Whether a client's id may be used as is (see the type's documentation).
    public static func isSane(_ value: String) -> Bool {
        let bytes = value.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"),
                UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: "@"): true
            default: false
            }
        }
    }
}
