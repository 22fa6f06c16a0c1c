import Foundation

extension S3ObjectStore {
    /// One DeleteObjects request (`POST ?delete=`, quiet mode: only failures are listed) for at
    /// most 1000 keys, with the `Content-MD5` S3 requires on it. A key reported `NoSuchKey` is no
    /// error; any other failed key throws the error its code maps to (``S3ErrorReply``).
    func deleteBatch(_ keys: [ObjectKey]) async throws(ObjectStoreError) {
        guard !keys.isEmpty else { return }
        var xml = #"<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>"#
        for key in keys {
            // ObjectKey's alphabet needs no XML escaping.
            xml += "<Object><Key>\(configuration.prefix)\(key.value)</Key></Object>"
        }
        xml += "</Delete>"
        let body = Data(xml.utf8)
        let response = try await send(
            "POST", url: urls.url(key: nil, query: [("delete", "")]), place: "bucket \(configuration.bucket)",
            headers: ["Content-Type: application/xml", "Content-MD5: \(S3Checksum.md5Base64(body))"], body: body,
            maxResponseBytes: Self.controlReplyBytes, bodyMayBeError: true)
        try requireSuccess(response, operation: "DELETE", key: nil)
        let result: S3XML
        do {
            result = try S3XML.parse(response.body)
        } catch {
            throw .corrupt("DELETE in bucket \(configuration.bucket): the answer is not well-formed XML: \(error.description)")
        }
        guard result.name == "DeleteResult" else {
            throw .corrupt("DELETE in bucket \(configuration.bucket): the answer's root is <\(S3ErrorReply.printable(result.name, 64))>, not <DeleteResult>")
        }
        for failed in result.children("Error") {
            let code = failed.child("Code")?.text
            guard code != "NoSuchKey" else { continue }
            let key = S3ErrorReply.printable(failed.child("Key")?.text ?? "?")
            throw S3ErrorReply(code: code, message: failed.child("Message")?.text)
                .error(status: 200, operation: "DELETE", place: "\(configuration.bucket)/\(key) at \(urls.hostForErrors)")
        }
    }
}
