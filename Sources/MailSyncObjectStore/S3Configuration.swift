import Foundation

/// Where and how ``S3ObjectStore`` reaches a bucket: endpoint, credentials, limits.
///
/// Defaults: path-style addressing, no key prefix, the system's CA bundle, 8 MiB parts (objects
/// larger than one part go up as a multipart upload), 5 attempts per request, objects of at most
/// 1 GiB read back, 10 s to connect and 5 min per request.
///
/// ``description`` and the mirror (`dump`, debuggers) never show the secret, nor does any error
/// of the store: configurations end up in logs.
public struct S3Configuration: Sendable, CustomStringConvertible, CustomReflectable {
    /// How a bucket is named in a request's URL.
    public enum Addressing: String, Sendable {
        /// `http://host:port/bucket/key`: MinIO, SeaweedFS, Ceph, and any endpoint without
        /// wildcard DNS.
        case path
        /// `http://bucket.host:port/key`: AWS S3's preferred form; needs DNS for `bucket.host`.
        case virtualHost
    }

    /// `http://host[:port]` or `https://host[:port]`, without a path (the bucket and key are
    /// added).
    public var endpoint: String
    /// The signing region (`us-east-1` for most S3-compatible stores).
    public var region: String
    public var bucket: String
    /// Prepended to every key (`backups/`); keys and listings are relative to it. Empty: none.
    public var prefix: String
    public var accessKeyID: String
    /// Never logged nor put in an error: libcurl signs with it (AWS Signature V4).
    public var secretAccessKey: String
    public var addressing: Addressing
    /// A PEM bundle of the CAs to trust for `https` instead of the system's. Nil: the system's.
    public var caFile: String?
    /// Bytes per part of a multipart upload; an object larger than this is uploaded in parts.
    /// Default 8 MiB; at least 5 MiB (S3's smallest part but the last), at most 5 GiB.
    public var partSize: Int
    /// Tries per request, the first included; 1 means no retry. Default 5.
    public var maxAttempts: Int
    /// The first retry's delay bound; each later one doubles it, up to 20 s, and waits a random
    /// time up to that bound ("full jitter"). Default 200 ms.
    public var retryBaseDelay: Duration
    /// The largest object ``S3ObjectStore/get(_:)`` reads into memory; a larger one is
    /// ``ObjectStoreError/corrupt(_:)``. Default 1 GiB.
    public var maxObjectBytes: Int
    /// Default 10 s.
    public var connectTimeout: Duration
    /// One request's whole time, upload or download included. Default 5 min.
    public var requestTimeout: Duration

    public static let minimumPartSize = 5 * 1024 * 1024
    public static let maximumPartSize = 5 * 1024 * 1024 * 1024

    public init(
        endpoint: String, region: String = "us-east-1", bucket: String, prefix: String = "",
        accessKeyID: String, secretAccessKey: String, addressing: Addressing = .path, caFile: String? = nil,
        partSize: Int = 8 * 1024 * 1024, maxAttempts: Int = 5, retryBaseDelay: Duration = .milliseconds(200),
        maxObjectBytes: Int = 1024 * 1024 * 1024, connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(300)
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.addressing = addressing
        self.caFile = caFile
        self.partSize = partSize
        self.maxAttempts = maxAttempts
        self.retryBaseDelay = retryBaseDelay
        self.maxObjectBytes = maxObjectBytes
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    /// Why this configuration cannot work, in an operator's words; nil when it can.
    public var problem: String? {
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return "the endpoint \(endpoint.debugDescription) is not an http:// or https:// URL with a host" }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.user == nil else {
            return "the endpoint \(endpoint.debugDescription) must be only scheme, host and port"
        }
        guard Self.isValidBucket(bucket) else {
            return "the bucket name \(bucket.debugDescription) is not a valid S3 bucket name (3 to 63 of a-z 0-9 . -)"
        }
        guard !region.isEmpty, region.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            return "the region \(region.debugDescription) is not a region name (a-z 0-9 -)"
        }
        guard prefix.isEmpty || ObjectKey.isValid(prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix) else {
            return "the key prefix \(prefix.debugDescription) must be made of A-Z a-z 0-9 . _ - / like a key"
        }
        guard !accessKeyID.isEmpty, !accessKeyID.contains(":"), !secretAccessKey.isEmpty else {
            return "the access key ID and the secret must both be set (the key ID without ':')"
        }
        guard (Self.minimumPartSize...Self.maximumPartSize).contains(partSize) else {
            return "the part size \(partSize) is outside 5 MiB to 5 GiB"
        }
        guard (1...20).contains(maxAttempts) else { return "maxAttempts \(maxAttempts) is outside 1 to 20" }
        guard maxObjectBytes > 0 else { return "maxObjectBytes must be positive" }
        guard retryBaseDelay >= .zero, retryBaseDelay <= .seconds(60) else { return "retryBaseDelay must be between 0 and 60 s" }
        guard connectTimeout > .zero, requestTimeout > .zero, connectTimeout <= .seconds(86_400), requestTimeout <= .seconds(86_400) else {
            return "the connect and request timeouts must be positive and at most a day"
        }
        return nil
    }

    public var description: String {
        "S3(\(endpoint), bucket \(bucket), prefix \(prefix.debugDescription), region \(region), key ID \(accessKeyID), "
            + "secret <redacted>, \(addressing.rawValue)-style)"
    }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "endpoint": endpoint, "region": region, "bucket": bucket, "prefix": prefix, "accessKeyID": accessKeyID,
            "secretAccessKey": "<redacted>", "addressing": addressing, "caFile": caFile as Any, "partSize": partSize,
            "maxAttempts": maxAttempts, "retryBaseDelay": retryBaseDelay, "maxObjectBytes": maxObjectBytes,
            "connectTimeout": connectTimeout, "requestTimeout": requestTimeout,
        ], displayStyle: .struct)
    }

    /// S3's rules for new buckets: 3 to 63 bytes of `a-z 0-9 . -`, starting and ending with a
    /// letter or digit.
    static func isValidBucket(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        let alphanumeric = { (b: UInt8) in (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) }
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}
