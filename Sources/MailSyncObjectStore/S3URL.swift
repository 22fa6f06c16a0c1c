import Foundation

/// Request URLs for a bucket, written so libcurl's Signature V4 and the store canonicalize them
/// alike.
///
/// libcurl 7.88 (Debian 12) signs the query exactly as written, newer versions sort and encode
/// it first; S3 canonicalizes it as parameters sorted by name, each `name=value` with everything
/// but `A-Z a-z 0-9 - . _ ~` percent-encoded (uppercase hex). So the query is always written that
/// way here, a valueless parameter as `name=` (`?delete=`, `?uploads=`). Keys need no encoding:
/// ``ObjectKey``'s alphabet is unreserved or `/`.
struct S3URL {
    let configuration: S3Configuration

    /// The URL of `key` (already prefixed; nil: the bucket itself) with `query`.
    func url(key: String?, query: [(String, String)] = []) -> String {
        var base = configuration.endpoint
        while base.hasSuffix("/") { base.removeLast() }
        var path: String
        switch configuration.addressing {
        case .path:
            path = "/" + configuration.bucket + (key.map { "/" + $0 } ?? "")
        case .virtualHost:
            if let schemeEnd = base.range(of: "://") {
                base.insert(contentsOf: configuration.bucket + ".", at: schemeEnd.upperBound)
            }
            path = "/" + (key ?? "")
        }
        if !query.isEmpty { path += "?" + Self.canonicalQuery(query) }
        return base + path
    }

    /// `query` sorted by name (then value) and percent-encoded as Signature V4 wants.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { pair -> String in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// RFC 3986 unreserved characters as they are, every other byte as `%XX`.
    static func encode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            let letter = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            let digit = byte >= 0x30 && byte <= 0x39
            if letter || digit || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E {  // - . _ ~
                out.append(byte)
            } else {
                out += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The endpoint's host (and port) for error texts: never the credentials, never the query.
    var hostForErrors: String {
        guard let components = URLComponents(string: configuration.endpoint), let host = components.host else { return "?" }
        return components.port.map { "\(host):\($0)" } ?? host
    }
}
