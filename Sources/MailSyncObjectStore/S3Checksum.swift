import Crypto
import Foundation

/// The digests S3 requests carry so the store can verify what it received, and so ``S3ObjectStore``
/// can verify what it reads back.
///
/// What SeaweedFS 4.48 does with them (checked against it, see S3ObjectStoreTests): it verifies
/// `Content-MD5` and `x-amz-checksum-sha256` on PUT and refuses a mismatch with `400 BadDigest`;
/// it keeps `x-amz-meta-*` user metadata and returns it on GET; it checks the signed
/// `x-amz-content-sha256` against the signature. ``S3ObjectStore`` sends all of them on a single
/// PUT, `Content-MD5` on each multipart part (a part checksum of another algorithm would oblige
/// the complete request to list it, which not every S3-compatible store accepts), and verifies
/// the whole object on GET against `x-amz-meta-sha256`, its own record of the SHA-256.
enum S3Checksum {
    /// The digests one upload carries, computed once.
    struct Digests: Sendable {
        var sha256Hex: String
        var sha256Base64: String
        var md5Base64: String
    }

    /// `data`'s digests, computed on a thread of its own: hashing a large object takes seconds
    /// of CPU, which must not hold one of the cooperative pool's few threads.
    static func digests(_ data: Data) async -> Digests {
        await offPool {
            let sha256 = SHA256.hash(data: data)
            return Digests(sha256Hex: hex(sha256), sha256Base64: Data(sha256).base64EncodedString(), md5Base64: md5Base64(data))
        }
    }

    /// `data`'s SHA-256 in hex, on a thread of its own (see ``digests(_:)``).
    static func sha256HexOffPool(_ data: Data) async -> String {
        await offPool { sha256Hex(data) }
    }

    static func sha256Hex(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    static func sha256Base64(_ data: Data) -> String {
        Data(SHA256.hash(data: data)).base64EncodedString()
    }

    private static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = "s3 digest"
            thread.start()
        }
    }

    static func md5Base64(_ data: Data) -> String {
        Data(Insecure.MD5.hash(data: data)).base64EncodedString()
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
