import Foundation
@testable import MailSyncObjectStore
import Testing

@Suite("S3 XML reader and listing pages")
struct S3XMLTests {
    /// A page as SeaweedFS 4.48 writes it (entities in the ETag included).
    static let page = #"""
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>t/p/</Prefix><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>t/p/k1</Key><ETag>&#34;b1946ac92492d2347c6235b4d2611184&#34;</ETag><Size>6</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>t/p/bad key</Key><Size>6</Size></Contents><Contents><Key><![CDATA[t/p/k2]]></Key><Size>0</Size></Contents><NextContinuationToken>t/p/k2&amp;x</NextContinuationToken><KeyCount>2</KeyCount></ListBucketResult>
        """#

    @Test("a listing page: keys relative to the store prefix, sizes, the token; a key outside ObjectKey's alphabet skipped")
    func listingPage() throws {
        let listing = try S3Listing(body: Data(Self.page.utf8), prefix: "t/p/", storePrefix: "t/")
        #expect(listing.objects == [ObjectInfo(key: try ObjectKey("p/k1"), size: 6), ObjectInfo(key: try ObjectKey("p/k2"), size: 0)])
        #expect(listing.nextToken == "t/p/k2&x")
    }

    @Test("entities, character references, comments, processing instructions and namespace prefixes")
    func constructs() throws {
        let xml = try S3XML.parse(Data(#"<?xml version="1.0"?><!-- c --><s:Error a='1' b="2"><s:Code>A&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x20AC;</s:Code><Empty/></s:Error><!-- after -->"#.utf8))
        #expect(xml.name == "Error")
        #expect(xml.child("Code")?.text == "A<>&\"'AB€")
        #expect(xml.child("Empty") != nil)
    }

    @Test("every prefix of a valid page, and every single-byte corruption of it, parses or throws: it never traps")
    func truncationsAndCorruptions() {
        let bytes = Array(Self.page.utf8)
        for end in 0...bytes.count {
            _ = try? S3XML.parse(Data(bytes[0..<end]))
        }
        for index in stride(from: 0, to: bytes.count, by: 3) {
            for replacement in [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), UInt8(ascii: "/"), 0, 0xFF] {
                var changed = bytes
                changed[index] = replacement
                _ = try? S3Listing(body: Data(changed), prefix: "t/p/", storePrefix: "t/")
            }
        }
        #expect(throws: S3XML.Malformed.self) { try S3XML.parse(Data(bytes.dropLast())) }
    }

    @Test("limits: nesting depth and element count", arguments: [S3XML.maxDepth, S3XML.maxDepth + 1])
    func depth(_ levels: Int) {
        let text = String(repeating: "<a>", count: levels) + String(repeating: "</a>", count: levels)
        let result = Result { try S3XML.parse(Data(text.utf8)) }
        let parsed = (try? result.get()) != nil
        #expect(parsed == (levels <= S3XML.maxDepth))
    }

    @Test("an error document maps to the operator's error", arguments: [
        (403, "SignatureDoesNotMatch", "accessDenied"), (401, "", "accessDenied"), (404, "NoSuchBucket", "missingBucket"),
        (400, "BadDigest", "corrupt"), (400, "InvalidArgument", "unavailable"), (503, "SlowDown", "unavailable"),
    ])
    func errorMapping(status: Int, code: String, expected: String) {
        let reply = S3ErrorReply(body: Data("<Error><Code>\(code)</Code><Message>m</Message></Error>".utf8))
        let error = reply.error(status: status, operation: "GET", place: "b/k at h")
        let name: String
        switch error {
        case .accessDenied: name = "accessDenied"
        case .missingBucket: name = "missingBucket"
        case .corrupt: name = "corrupt"
        case .unavailable: name = "unavailable"
        default: name = "other"
        }
        #expect(name == expected)
        #expect(error.description.contains("HTTP \(status)"))
    }
}
