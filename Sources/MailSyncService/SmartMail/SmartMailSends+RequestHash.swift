import Crypto
import Foundation
import MailSyncClient
import MailSyncTenantData

extension SmartMailSends {
    /// What makes two requests the same: every field but the key, length-prefixed, hashed.
    static func requestHash(_ request: SendSmartMailRequest) -> String {
        var hasher = SHA256()
        func field(_ text: String) {
            let bytes = Array(text.utf8)
            hasher.update(data: withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { Array($0) })
            hasher.update(data: bytes)
        }
        for text in [request.leadId, request.subject, request.textBody, request.htmlBody, request.opportunityId] { field(text) }
        field("to:\(request.to.count)")
        request.to.forEach(field)
        field("cc:\(request.cc.count)")
        request.cc.forEach(field)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
