import Crypto
import Testing
@testable import MailSyncMatching

/// `SHA256Digest` against FIPS 180-4's vectors and against swift-crypto (BoringSSL).
@Suite("SHA-256 of MessageKey", .timeLimit(.minutes(1)))
struct SHA256DigestTests {
    @Test("the NIST vectors: empty, abc, the two-block message and a million a's")
    func vectors() {
        #expect(MessageKey.hex(SHA256Digest.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(MessageKey.hex(SHA256Digest.hash("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(MessageKey.hex(SHA256Digest.hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(MessageKey.hex(SHA256Digest.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("every length from 0 to 300, and random inputs fed in random pieces, match swift-crypto")
    func matchesSwiftCrypto() {
        var random = SystemRandomNumberGenerator()
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(SHA256Digest.hash(bytes) == Array(SHA256.hash(data: bytes)), "length \(length)")
        }
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...5_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            var digest = SHA256Digest()
            var rest = bytes[...]
            while !rest.isEmpty {
                let piece = Int.random(in: 1...max(1, rest.count), using: &random)
                digest.update(rest.prefix(piece))
                rest = rest.dropFirst(piece)
            }
            #expect(digest.finalize() == Array(SHA256.hash(data: bytes)))
        }
    }
}
