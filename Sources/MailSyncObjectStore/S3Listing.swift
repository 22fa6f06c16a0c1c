import Foundation

/// One ListObjectsV2 page (`<ListBucketResult>`), checked: every key under the requested prefix,
/// sizes non-negative integers, a continuation token whenever the page says it is truncated.
///
/// Keys are returned relative to the store's prefix; a key outside ``ObjectKey``'s alphabet is
/// skipped (someone else's object), anything else unexpected is
/// ``ObjectStoreError/corrupt(_:)``.
struct S3Listing: Equatable {
    var objects: [ObjectInfo]
    /// Nil on the last page.
    var nextToken: String?

    init(body: Data, prefix: String, storePrefix: String) throws(ObjectStoreError) {
        let xml: S3XML
        do {
            xml = try S3XML.parse(body)
        } catch {
            throw .corrupt("the bucket listing is not well-formed XML: \(error.description)")
        }
        guard xml.name == "ListBucketResult" else {
            throw .corrupt("the bucket listing's root is <\(S3ErrorReply.printable(xml.name, 64))>, not <ListBucketResult>")
        }
        objects = []
        for entry in xml.children("Contents") {
            guard let key = entry.child("Key")?.text, key.hasPrefix(prefix), key.hasPrefix(storePrefix) else {
                throw .corrupt("the bucket listing holds an entry without a key under \(prefix.debugDescription)")
            }
            guard let sizeText = entry.child("Size")?.text.trimmingCharacters(in: .whitespacesAndNewlines),
                let size = Int64(sizeText), size >= 0
            else {
                throw .corrupt("the bucket listing gives no valid size for \(S3ErrorReply.printable(key, 200).debugDescription)")
            }
            guard let relative = try? ObjectKey(String(key.dropFirst(storePrefix.count))) else { continue }
            objects.append(ObjectInfo(key: relative, size: size))
        }
        let truncated = xml.child("IsTruncated")?.text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == "true"
        if truncated {
            guard let token = xml.child("NextContinuationToken")?.text, !token.isEmpty, token.utf8.count <= 4096 else {
                throw .corrupt("the bucket listing is truncated but gives no usable continuation token")
            }
            nextToken = token
        } else {
            nextToken = nil
        }
    }
}
