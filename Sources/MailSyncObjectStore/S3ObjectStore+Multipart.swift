import Foundation

extension S3ObjectStore {
    /// Uploads `data` in parts of ``S3Configuration/partSize`` bytes (the last one smaller):
    /// CreateMultipartUpload (carrying `x-amz-meta-sha256` for the whole object),
    /// UploadPart with each part's `Content-MD5`, CompleteMultipartUpload with the parts' ETags.
    /// Each request is retried on its own. If any step fails the upload is aborted (one
    /// AbortMultipartUpload, its own failure ignored: S3 lifecycle rules clean up what remains)
    /// and the step's error is thrown. At most 10,000 parts (S3's limit): a larger object throws
    /// ``ObjectStoreError/unavailable(_:)`` before anything is sent.
    func putMultipart(_ key: ObjectKey, _ data: Data, sha256: String) async throws(ObjectStoreError) {
        let partSize = configuration.partSize
        let (quotient, remainder) = data.count.quotientAndRemainder(dividingBy: partSize)
        let partCount = quotient + (remainder > 0 ? 1 : 0)
        guard partCount <= 10_000 else {
            throw .unavailable("PUT \(place(key)): \(data.count) bytes need \(partCount) parts of \(partSize) bytes, over S3's 10,000; raise the part size")
        }
        let created = try await send(
            "POST", key: key, query: [("uploads", "")], headers: ["Content-Type: application/octet-stream", "x-amz-meta-sha256: \(sha256)"],
            body: Data(), maxResponseBytes: Self.controlReplyBytes)
        try requireSuccess(created, operation: "CREATE MULTIPART", key: key)
        guard let initiated = try? S3XML.parse(created.body), initiated.name == "InitiateMultipartUploadResult",
            let uploadID = initiated.child("UploadId")?.text, !uploadID.isEmpty, uploadID.utf8.count <= 1024
        else {
            throw .corrupt("CREATE MULTIPART \(place(key)): the answer holds no upload ID")
        }
        do throws(ObjectStoreError) {
            var etags: [String] = []
            for index in 0..<partCount {
                let start = data.startIndex + index * partSize
                let part = Data(data[start..<min(data.endIndex, start + partSize)])
                let digests = await S3Checksum.digests(part)
                let uploaded = try await send(
                    "PUT", key: key, query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
                    headers: ["Content-MD5: \(digests.md5Base64)"], body: part, payloadSHA256: digests.sha256Hex,
                    maxResponseBytes: Self.controlReplyBytes)
                try requireSuccess(uploaded, operation: "UPLOAD PART \(index + 1)", key: key)
                guard let etag = uploaded.headers["etag"], !etag.isEmpty, etag.utf8.count <= 256 else {
                    throw ObjectStoreError.corrupt("UPLOAD PART \(index + 1) \(place(key)): the answer has no ETag")
                }
                etags.append(etag)
            }
            var xml = #"<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
            for (index, etag) in etags.enumerated() {
                xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(Self.escapeXML(etag))</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let completed = try await send(
                "POST", key: key, query: [("uploadId", uploadID)], headers: ["Content-Type: application/xml"], body: Data(xml.utf8),
                maxResponseBytes: Self.controlReplyBytes, bodyMayBeError: true)
            try requireSuccess(completed, operation: "COMPLETE MULTIPART", key: key)
            guard (try? S3XML.parse(completed.body))?.name == "CompleteMultipartUploadResult" else {
                throw ObjectStoreError.corrupt("COMPLETE MULTIPART \(place(key)): the answer is not a CompleteMultipartUploadResult")
            }
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)], maxResponseBytes: Self.controlReplyBytes)
            throw error
        }
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
