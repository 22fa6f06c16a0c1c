import Foundation
import MailSyncRPC

/// Page sizes and opaque page tokens for the List RPCs.
///
/// A page size of 0 means the default (50); the most is 500; a negative one is refused. A token
/// is the base64url of `"<kind>:<offset>"`, so one issued by another List RPC, or made up, is
/// refused with `invalid argument` instead of being misread.
struct Page {
    static let defaultSize = 50
    static let maxSize = 500
    /// The furthest a token may point (a made-up token past it is refused, so `offset + size`
    /// cannot overflow).
    static let maxOffset = 1 << 40

    let size: Int
    let offset: Int
    let kind: String

    init(size: Int32, token: String, kind: String) throws {
        guard size >= 0 else {
            throw RPCError(.invalidArgument, "page_size must be 0 (the default, \(Self.defaultSize)) or more, got \(size)")
        }
        self.size = size == 0 ? Self.defaultSize : min(Int(size), Self.maxSize)
        self.kind = kind
        if token.isEmpty {
            offset = 0
            return
        }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            text.hasPrefix(kind + ":"), let offset = Int(text.dropFirst(kind.count + 1)), (0...Self.maxOffset).contains(offset)
        else {
            throw RPCError(.invalidArgument, "page_token is not one this server issued for this list; start again with an empty token")
        }
        self.offset = offset
    }

    /// The token for the page after this one, given how many rows this page found (asking for one
    /// more than `size` tells whether there is a next page).
    func nextToken(found: Int) -> String {
        guard found > size else { return "" }
        return Data("\(kind):\(offset + size)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// `LIMIT ? OFFSET ?` arguments: one row more than the page, to know if another follows.
    var limitPlusOne: Int64 { Int64(size + 1) }
}
